"""Scenarios for `cnn_learner`: small pretrained-style CNNs, and loops that run on your models.

The checks call your functions themselves (``student.create_cnn_model(model, 3)``, ...) on models
``make_model`` built in the worker, load weights drawn in the grader into them, and use these
functions for what needs a loop there (a few SGD steps, a forward pass in training mode). What comes
back is data (outputs, losses, state dicts), compared with fastai's pieces run in the grader
on the same weights. They use only torch. Try one yourself::

    import cnn_learner, scenarios
    model = scenarios.make_model(cnn_learner, seed=0, arch="resnet")
    cnn = cnn_learner.create_cnn_model(model, 3)
    scenarios.sgd_steps(cnn_learner, seed=0, model=cnn, x=torch.randn(4, 3, 20, 18), y=torch.tensor([0, 1, 2, 0]))
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from torch import nn


class TinyResNet(nn.Module):
    """A ResNet-shaped classifier: conv1, bn1, relu, maxpool, layer1, layer2, avgpool, fc
    (torchvision's child names; fastai cuts it at -2 or before the last pooling child)."""

    def __init__(self, widths=(6, 8, 12), n_classes=10, c_in=3):
        super().__init__()
        a, b, c = widths
        self.conv1 = nn.Conv2d(c_in, a, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(a)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential(nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(b, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, n_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.avgpool(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(x, 1))


class TinyVGG(nn.Module):
    """A VGG-shaped classifier: ``features`` (max pooling inside), ``pool`` (a Sequential holding the
    global pooling), ``classifier``. No child is itself a pooling layer, so ``cut=None`` has to look
    inside the children: it cuts before ``pool``."""

    def __init__(self, widths=(6, 8, 12), n_classes=10, c_in=3):
        super().__init__()
        a, b, c = widths
        self.features = nn.Sequential(
            nn.Conv2d(c_in, a, 3, padding=1), nn.BatchNorm2d(a), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(b, c, 3, padding=1), nn.ReLU())
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(c, n_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


class TwoPools(nn.Module):
    """Pooling in two places: ``pool`` early and ``gap`` at the end (the one fastai cuts before)."""

    def __init__(self, widths=(6, 8, 12), n_classes=10, c_in=3):
        super().__init__()
        a, b, c = widths
        self.stem = nn.Sequential(nn.Conv2d(c_in, a, 3, padding=1, bias=False), nn.BatchNorm2d(a), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.block = nn.Sequential(nn.Conv2d(a, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.gap = nn.AdaptiveMaxPool2d(1)
        self.drop = nn.Dropout(0.1)
        self.fc = nn.Linear(c, n_classes)

    def forward(self, x):
        return self.fc(self.drop(torch.flatten(self.gap(self.block(self.pool(self.stem(x)))), 1)))


ARCHS = {"resnet": TinyResNet, "vgg": TinyVGG, "twopools": TwoPools}


def make_arch(arch, seed, c_in=3):
    """The model ``arch`` with channel widths drawn from ``seed`` and ``c_in`` input channels."""
    rng = random.Random(seed)
    widths = (rng.randint(3, 6), rng.randint(6, 9), rng.randint(9, 14))
    return ARCHS[arch](widths, c_in=c_in)


def make_model(impl, *, seed, arch, c_in=3):
    """``make_arch(arch, seed, c_in)`` in the worker: the "pretrained" model the checks give your functions."""
    return make_arch(arch, seed, c_in)


def keep_three(model):
    """A ``cut`` function: the first three children of ``model`` as an ``nn.Sequential``."""
    return nn.Sequential(*list(model.children())[:3])


def cut_function(impl, *, seed):
    """The function ``keep_three``, for ``create_body(model, cut=keep_three)``."""
    return keep_three


def layer_types(impl, *, seed, module):
    """The class names of ``module``'s layers in ``for m in module`` order, with the dropout probability
    and the BatchNorm momentum where a layer has them (the checks use this for their messages only)."""
    out = []
    for m in module:
        name = type(m).__name__
        if isinstance(m, nn.Dropout):
            name += f"(p={m.p})"
        if isinstance(m, nn.BatchNorm1d):
            name += f"(momentum={m.momentum})"
        out.append(name)
    return out


def parameter_names(impl, *, seed, module):
    """The names of ``module``'s parameters, in ``named_parameters()`` order."""
    return [k for k, _ in module.named_parameters()]


def forward_eval(impl, *, seed, module, x):
    """``module(x)`` in eval mode, without gradient."""
    module.eval()
    with torch.no_grad():
        return module(x)


def forward_train(impl, *, seed, module, x):
    """``module(x)`` in training mode (dropout drawn from the seed, BatchNorm on batch statistics),
    and the module's state afterwards (its running statistics moved)."""
    module.train()
    out = module(x)
    return {"output": out.detach(), "state": module.state_dict()}


def sgd_steps(impl, *, seed, model, x, y, lrs=(0.1,), steps=1, split=False, train_mode=False):
    """``steps`` plain SGD steps of ``model`` on cross-entropy for ``(x, y)``: every parameter that
    gets a gradient moves by ``-lr * grad``; with ``split=True`` the groups of ``cnn_splitter(model)``
    get one learning rate each (``lrs``). Training mode draws dropout from the seed. Returns the
    losses and the final state."""
    groups = impl.cnn_splitter(model) if split else [list(model.parameters())]
    model.train(train_mode)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        for p in model.parameters():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for group, lr in zip(groups, lrs):
                for p in group:
                    if p.grad is not None:
                        p -= lr * p.grad
        losses.append(loss.detach())
    return {"losses": torch.stack(losses), "state": model.state_dict()}
