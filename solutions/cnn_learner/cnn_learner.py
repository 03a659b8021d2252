"""Transfer learning: body + head / Transferlernen: Rumpf + Kopf (fastai's ``vision_learner``).

A pretrained CNN (e.g. a ResNet trained on ImageNet) ends in layers made for *its* task: a global
pooling and a linear layer with 1000 outputs. fastai keeps the convolutional **body** (Rumpf), cuts
off the rest, and puts a new **head** (Kopf) on top that fits our number of classes. First only the
head is trained (the body is *frozen*, eingefroren), later everything with smaller learning rates
for the body (discriminative learning rates, one per parameter group).

You write fastai's pieces from scratch (fastai 2.8, ``fastai.vision.learner``):

``create_body(model, cut=None)``
    ``nn.Sequential`` of the model's children (``list(model.children())``) up to, **not
    including**, index ``cut`` (an int, negative ones too: ``-2`` drops the last two children). A
    callable ``cut`` is applied to the model instead: ``cut(model)`` is the body. With
    ``cut=None``, cut before the **last** child that is a pooling layer or contains one (a module
    whose class name ends in ``Pool1d``, ``Pool2d`` or ``Pool3d``, searched recursively). The body
    reuses the model's own modules (and so its pretrained weights); nothing is copied.

``create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False)``
    A **flat** ``nn.Sequential``:

    - a pooling layer: your ``AdaptiveConcatPool2d()`` (below) if ``concat_pool``, which **doubles**
      the features (``nf -> 2*nf``), else ``nn.AdaptiveAvgPool2d(1)``; then ``nn.Flatten()``;
    - the sizes ``[nf, 512, n_out]`` (``nf`` already doubled), or ``[nf] + lin_ftrs + [n_out]``;
    - for each consecutive pair ``(ni, no)`` a block of ``nn.BatchNorm1d(ni)``, ``nn.Dropout(p)``
      (left out when ``p == 0``), ``nn.Linear(ni, no, bias=not bn)`` and ``nn.ReLU(inplace=True)``
      (not after the last linear layer). The first block has a BatchNorm only if ``first_bn``;
      the others always do (and their Linear then has no bias);
    - dropout: a list ``ps`` gives one ``p`` per block; a single number ``ps`` means ``ps/2`` for
      every block but the last, which gets ``ps``;
    - ``bn_final``: one more ``nn.BatchNorm1d(n_out, momentum=0.01)`` at the very end.

    With the defaults: pool, Flatten, BN(2nf), Dropout(0.25), Linear(2nf, 512), ReLU, BN(512),
    Dropout(0.5), Linear(512, n_out). The checks load your head's weights into fastai's head (the
    ``state_dict`` names and shapes must match), and compare the outputs in eval mode (with
    fastai's weights loaded into yours via ``load_state_dict``) and in training mode (dropout, and
    the BatchNorm statistics afterwards).

``create_cnn_model(model, n_out, cut=None, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False)``
    ``nn.Sequential(body, head)``: ``nf`` is the number of channels the body outputs (find it with
    a dummy batch ``torch.zeros(1, c_in, 32, 32)`` in ``eval()`` mode under ``torch.no_grad()``;
    ``c_in`` is the input channels of the body's first convolution, which need not be 3). Building
    the model must not change the body's weights or BatchNorm statistics. Initialise the head like fastai:
    ``nn.init.kaiming_normal_`` on the weight of every ``nn.Linear``, biases to zero (BatchNorm
    layers keep their init).

``freeze_body(model, train_bn=True)``
    For ``model = create_cnn_model(...)``: the body's parameters get ``requires_grad = False``,
    except, when ``train_bn``, the parameters of normalisation layers (``nn.BatchNorm1d/2d/3d``,
    ``nn.InstanceNorm1d/2d/3d``, ``nn.LayerNorm``): fastai keeps training those, because the
    statistics of our data differ from ImageNet's. The head stays (or becomes) trainable.
    Returns the model.

``cnn_splitter(model) -> [body params, head params]``
    Two lists of parameters (``model[0]`` and ``model[1:]``), in ``parameters()`` order: the
    parameter groups for discriminative learning rates.

Forbidden: fastai (``create_body``, ``create_head``, ``create_vision_model``, ``AdaptiveConcatPool2d``,
``LinBnDrop``, ...) in any form. Allowed: everything in ``torch.nn`` (``nn.AdaptiveMaxPool2d``,
``F.adaptive_avg_pool2d``, ``nn.Flatten``, ...).
"""

from __future__ import annotations

import re
import typing as t

import torch
import torch.nn.functional as F
from torch import nn

#: Normalisation layers whose parameters stay trainable in a frozen body (fastai's ``norm_types``).
NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
              nn.InstanceNorm3d, nn.LayerNorm)


class AdaptiveConcatPool2d(nn.Module):
    """Adaptive max pooling and adaptive average pooling to ``size``, concatenated on the channel
    axis, **max first**: ``(N, C, H, W) -> (N, 2C, size, size)``."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.size = size
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        return torch.cat([F.adaptive_max_pool2d(x, self.size), F.adaptive_avg_pool2d(x, self.size)], dim=1)
        # END SOLUTION


# BEGIN SOLUTION
def _has_pool(m: nn.Module) -> bool:
    """Whether ``m`` is a pooling layer or contains one (recursively)."""
    if re.search(r"Pool[123]d$", type(m).__name__):
        return True
    return any(_has_pool(c) for c in m.children())


def _num_features(body: nn.Module) -> int:
    """Channels of the body's output for a dummy 32x32 batch (eval mode, no gradient)."""
    first = next(p for p in body.parameters() if p.dim() == 4)
    x = torch.zeros(1, first.shape[1], 32, 32, dtype=first.dtype, device=first.device)
    was_training = body.training
    body.eval()
    with torch.no_grad():
        out = body(x)
    body.train(was_training)
    return int(out.shape[1])
# END SOLUTION


def create_body(model: nn.Module, cut: int | t.Callable[[nn.Module], nn.Module] | None = None) -> nn.Module:
    """The body of ``model``: its children before index ``cut``, or ``cut(model)`` for a callable,
    or (``cut=None``) the children before the last one that has a pooling layer."""
    # BEGIN SOLUTION
    children = list(model.children())
    if cut is None:
        cut = next(i for i in reversed(range(len(children))) if _has_pool(children[i]))
    if isinstance(cut, int):
        return nn.Sequential(*children[:cut])
    if callable(cut):
        return cut(model)
    raise NameError("cut must be either integer or a function")
    # END SOLUTION


def create_head(nf: int, n_out: int, lin_ftrs: list[int] | None = None, ps: float | list[float] = 0.5,
                concat_pool: bool = True, first_bn: bool = True, bn_final: bool = False) -> nn.Sequential:
    """fastai's head for ``nf`` body features and ``n_out`` outputs, as a flat ``nn.Sequential``."""
    # BEGIN SOLUTION
    if concat_pool:
        nf *= 2
    sizes = [nf, 512, n_out] if lin_ftrs is None else [nf, *lin_ftrs, n_out]
    n_blocks = len(sizes) - 1
    bns = [first_bn] + [True] * (n_blocks - 1)
    ps = list(ps) if isinstance(ps, (list, tuple)) else [ps]
    if len(ps) == 1:
        ps = [ps[0] / 2] * (n_blocks - 1) + ps
    layers: list[nn.Module] = [AdaptiveConcatPool2d() if concat_pool else nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    for i, (ni, no, bn, p) in enumerate(zip(sizes[:-1], sizes[1:], bns, ps)):
        if bn:
            layers.append(nn.BatchNorm1d(ni))
        if p != 0:
            layers.append(nn.Dropout(p))
        layers.append(nn.Linear(ni, no, bias=not bn))
        if i < n_blocks - 1:
            layers.append(nn.ReLU(inplace=True))
    if bn_final:
        layers.append(nn.BatchNorm1d(sizes[-1], momentum=0.01))
    return nn.Sequential(*layers)
    # END SOLUTION


def create_cnn_model(model: nn.Module, n_out: int, cut: int | t.Callable[[nn.Module], nn.Module] | None = None,
                     lin_ftrs: list[int] | None = None, ps: float | list[float] = 0.5, concat_pool: bool = True,
                     first_bn: bool = True, bn_final: bool = False) -> nn.Sequential:
    """``nn.Sequential(create_body(model, cut), head)`` with a kaiming-initialised head for ``n_out`` outputs."""
    # BEGIN SOLUTION
    body = create_body(model, cut)
    head = create_head(_num_features(body), n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool,
                       first_bn=first_bn, bn_final=bn_final)
    for m in head.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return nn.Sequential(body, head)
    # END SOLUTION


def freeze_body(model: nn.Sequential, train_bn: bool = True) -> nn.Sequential:
    """Freeze ``model[0]`` (the body) except its normalisation layers when ``train_bn``; the head trains."""
    # BEGIN SOLUTION
    for p in model[0].parameters():
        p.requires_grad_(False)
    if train_bn:
        for m in model[0].modules():
            if isinstance(m, NORM_TYPES):
                for p in m.parameters():
                    p.requires_grad_(True)
    for p in model[1:].parameters():
        p.requires_grad_(True)
    return model
    # END SOLUTION


def cnn_splitter(model: nn.Sequential) -> list[list[nn.Parameter]]:
    """``[body parameters, head parameters]`` of ``model = create_cnn_model(...)``."""
    # BEGIN SOLUTION
    return [list(model[0].parameters()), list(model[1:].parameters())]
    # END SOLUTION
