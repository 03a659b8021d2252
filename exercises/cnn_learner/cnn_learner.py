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
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise cnn_learner)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: your code here
        raise NotImplementedError("forward: not implemented yet (exercise cnn_learner)")




def create_body(model: nn.Module, cut: int | t.Callable[[nn.Module], nn.Module] | None = None) -> nn.Module:
    """The body of ``model``: its children before index ``cut``, or ``cut(model)`` for a callable,
    or (``cut=None``) the children before the last one that has a pooling layer."""
    # TODO: your code here
    raise NotImplementedError("create_body: not implemented yet (exercise cnn_learner)")


def create_head(nf: int, n_out: int, lin_ftrs: list[int] | None = None, ps: float | list[float] = 0.5,
                concat_pool: bool = True, first_bn: bool = True, bn_final: bool = False) -> nn.Sequential:
    """fastai's head for ``nf`` body features and ``n_out`` outputs, as a flat ``nn.Sequential``."""
    # TODO: your code here
    raise NotImplementedError("create_head: not implemented yet (exercise cnn_learner)")


def create_cnn_model(model: nn.Module, n_out: int, cut: int | t.Callable[[nn.Module], nn.Module] | None = None,
                     lin_ftrs: list[int] | None = None, ps: float | list[float] = 0.5, concat_pool: bool = True,
                     first_bn: bool = True, bn_final: bool = False) -> nn.Sequential:
    """``nn.Sequential(create_body(model, cut), head)`` with a kaiming-initialised head for ``n_out`` outputs."""
    # TODO: your code here
    raise NotImplementedError("create_cnn_model: not implemented yet (exercise cnn_learner)")


def freeze_body(model: nn.Sequential, train_bn: bool = True) -> nn.Sequential:
    """Freeze ``model[0]`` (the body) except its normalisation layers when ``train_bn``; the head trains."""
    # TODO: your code here
    raise NotImplementedError("freeze_body: not implemented yet (exercise cnn_learner)")


def cnn_splitter(model: nn.Sequential) -> list[list[nn.Parameter]]:
    """``[body parameters, head parameters]`` of ``model = create_cnn_model(...)``."""
    # TODO: your code here
    raise NotImplementedError("cnn_splitter: not implemented yet (exercise cnn_learner)")
