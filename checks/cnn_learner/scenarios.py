"""Scenarios for `cnn_learner`: they build small pretrained-style CNNs, call your functions and
report data (layer types, parameter shapes, requires_grad flags, a few training steps).

The checks run these functions in the worker against your package (``impl``) and the same
functions against fastai in the grader's process, with the same seed, and compare. They use only
torch. Try one yourself::

    import cnn_learner, scenarios
    scenarios.head_layout(cnn_learner, seed=0, nf=16, n_out=3)
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


def make_arch(arch, seed):
    """The model ``arch`` with channel widths drawn from ``seed`` (its weights come from torch's RNG)."""
    rng = random.Random(seed)
    widths = (rng.randint(3, 6), rng.randint(6, 9), rng.randint(9, 14))
    return ARCHS[arch](widths)


def _cut(cut):
    """``cut`` as data: an int, None, or ``"callable"`` for a function that keeps the first three children."""
    if cut == "callable":
        return lambda m: nn.Sequential(*list(m.children())[:3])
    return cut


def layer_info(module):
    """Type, parameter and buffer shapes and settings of every layer of a Sequential (in ``for m in seq`` order)."""
    info = []
    for m in module:
        item = {"type": type(m).__name__,
                "params": {k: list(v.shape) for k, v in m.named_parameters()},
                "buffers": sorted(k for k, _ in m.named_buffers())}
        for attr in ("p", "eps", "momentum", "in_features", "out_features", "num_features", "affine",
                     "track_running_stats", "output_size"):
            if hasattr(m, attr) and isinstance(getattr(m, attr), (int, float, bool, tuple)):
                item[attr] = getattr(m, attr)
        info.append(item)
    return info


def head_layout(impl, *, seed, nf, n_out, **options):
    """``create_head(nf, n_out, **options)``: the layers (``layer_info``), the state_dict's keys and
    shapes, and the output shape for a batch of two ``(nf, 5, 3)`` feature maps."""
    head = impl.create_head(nf, n_out, **options)
    x = torch.randn(2, nf, 5, 3)
    head.eval()
    with torch.no_grad():
        out = head(x)
    return {"type": type(head).__name__, "layers": layer_info(head),
            "state": {k: list(v.shape) for k, v in head.state_dict().items()}, "out_shape": list(out.shape)}


def body_layout(impl, *, seed, arch, cut):
    """``create_body(model, cut)`` on ``make_arch(arch, seed)``: the body's layers, its state_dict,
    and for every body parameter whether it is one of the model's own (not a copy)."""
    model = make_arch(arch, seed)
    body = impl.create_body(model, _cut(cut))
    own = {id(p) for p in model.parameters()}
    return {"type": type(body).__name__, "layers": layer_info(body) if isinstance(body, nn.Sequential) else [],
            "state": body.state_dict(), "shared": [id(p) in own for p in body.parameters()]}


def model_layout(impl, *, seed, arch, n_out, cut=None, **options):
    """``create_cnn_model(make_arch(arch, seed), n_out, cut, **options)``: the two parts, the head's
    layers, the body's state_dict before and after, and the head's Linear weights (for their init)."""
    model = make_arch(arch, seed)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cnn = impl.create_cnn_model(model, n_out, _cut(cut), **options)
    parts = [type(m).__name__ for m in cnn] if isinstance(cnn, nn.Sequential) else []
    body = cnn[0]
    original = {id(p): k for k, p in model.named_parameters()}
    return {"type": type(cnn).__name__, "parts": parts,
            "body_layers": layer_info(body) if isinstance(body, nn.Sequential) else [],
            "head_layers": layer_info(cnn[1]) if len(cnn) > 1 and isinstance(cnn[1], nn.Sequential) else [],
            "model_before": before, "model_after": model.state_dict(),
            "body_from_model": [original.get(id(p)) for p in body.parameters()],
            "head_linear_weights": [m.weight.detach().clone() for m in cnn[1].modules() if isinstance(m, nn.Linear)],
            "head_linear_biases": [m.bias.detach().clone() for m in cnn[1].modules()
                                   if isinstance(m, nn.Linear) and m.bias is not None]}


def freeze_flags(impl, *, seed, arch, train_bn=True, twice=False):
    """``requires_grad`` of every named parameter after ``freeze_body(create_cnn_model(...), train_bn)``
    (``twice``: a parameter of the head is switched off first; freezing must switch it back on)."""
    model = impl.create_cnn_model(make_arch(arch, seed), 3)
    if twice:
        for p in model[1].parameters():
            p.requires_grad_(False)
    impl.freeze_body(model, train_bn=train_bn)
    return {k: bool(p.requires_grad) for k, p in model.named_parameters()}


def splitter_names(impl, *, seed, arch):
    """The names of the parameters in each group of ``cnn_splitter(create_cnn_model(...))``, and the
    names of all the model's parameters in ``named_parameters()`` order."""
    model = impl.create_cnn_model(make_arch(arch, seed), 4)
    names = {id(p): k for k, p in model.named_parameters()}
    groups = impl.cnn_splitter(model)
    return {"groups": [[names.get(id(p), "<not a parameter of the model>") for p in group] for group in groups],
            "names": [k for k, _ in model.named_parameters()]}


def _reinit(model, seed):
    """Overwrite every parameter and BN statistic from ``seed`` (sorted by name), so both runs start equal."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, v in sorted(model.state_dict().items()):
            if not v.is_floating_point():
                continue
            if name.endswith("running_var"):
                v.copy_(0.5 + torch.rand(v.shape, generator=g))
            elif v.dim() >= 2:
                v.copy_(torch.randn(v.shape, generator=g) / v[0].numel() ** 0.5)
            else:
                v.copy_(0.2 * torch.randn(v.shape, generator=g) + (1.0 if name.endswith("weight") else 0.0))


def train_steps(impl, *, seed, arch="resnet", steps=3, freeze=True, train_bn=True, lrs=(0.05, 0.2), n_out=3,
                device="cpu"):
    """A few SGD steps of ``create_cnn_model`` (body frozen with ``freeze_body`` if ``freeze``), with
    one learning rate per ``cnn_splitter`` group. Returns the losses and the final state_dict."""
    model = impl.create_cnn_model(make_arch(arch, seed), n_out)
    _reinit(model, seed)
    model.to(device)
    if freeze:
        impl.freeze_body(model, train_bn=train_bn)
    groups = impl.cnn_splitter(model)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(12, 3, 20, 18, generator=g).to(device)
    y = torch.randint(0, n_out, (12,), generator=g).to(device)
    torch.manual_seed(seed + 2)  # the dropout masks
    model.train()
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
