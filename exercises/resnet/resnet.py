"""A ResNet from scratch / Ein ResNet (Residualnetz) von Grund auf.

A deep plain CNN trains badly: every extra layer makes the gradient's way back longer. A
*residual block* (Residualblock) adds a shortcut, the *identity path*, around two conv layers::

    out = relu(convs(x) + idpath(x))

If the conv path learns nothing (its output is 0), the block is just ``relu(idpath(x))``; so a
deeper ResNet is at least as good as a shallower one, and the gradient flows straight back through
the additions. fastai even initialises the last BatchNorm weight of every block to zero, so that
each block *starts* as (almost) the identity.

What to build here (fastai's ``ResBlock`` with ``expansion=1``, torchvision's ``ResNet`` shapes).
The checks read your modules' ``state_dict`` (the weights, running statistics) and rebuild the
documented architecture from it, so build exactly this, **creating the modules in this order**:

``ResBlock(ni, nf, stride=1)`` (``ni`` input channels, ``nf`` output channels, stride 1 or 2):

* ``self.convs``: an ``nn.Sequential`` of
  ``Conv2d(ni, nf, 3, stride=stride, padding=1, bias=False)``, ``BatchNorm2d(nf)``, ``ReLU()``,
  ``Conv2d(nf, nf, 3, padding=1, bias=False)``, ``BatchNorm2d(nf)``. Its **last module is the
  BatchNorm2d**: no ReLU at the end of the conv path.
* ``self.idpath``, the identity path (Identitätspfad), created after ``convs``:

  - ``ni == nf`` and ``stride == 1``: the identity (an empty ``nn.Sequential()`` or ``nn.Identity()``);
  - ``stride != 1``: first ``AvgPool2d(stride, ceil_mode=True)`` (kernel = stride = 2; ``ceil_mode``
    keeps odd sizes in step with the strided conv: both give ceil(H / 2));
  - ``ni != nf``: then a projection ``Conv2d(ni, nf, 1, bias=False)`` and ``BatchNorm2d(nf)``.

  (fastai's order: pool first, then the 1x1 conv; both when the stride *and* the width change.)
* ``forward(x) = relu(convs(x) + idpath(x))``: the activation comes **after** the addition.
  Don't add in place on the skip tensor (``x += ...`` or ``idpath(x).add_(...)``): with the
  identity path that changes the block's own input, which autograd needs for the backward pass
  (and which the caller still holds). A new tensor (``a + b``) is fine; ``relu`` on the sum may be
  in place.

``ResNet(n_in, n_out, layers=(1, 1, 1, 1), widths=(16, 32, 64, 128))`` for images with ``n_in``
channels and ``n_out`` classes:

* ``self.stem``: ``Conv2d(n_in, widths[0], 3, padding=1, bias=False)``, ``BatchNorm2d(widths[0])``,
  ``ReLU()`` (stride 1);
* ``self.stages``: one stage per entry of ``layers``/``widths``; stage ``i`` has ``layers[i]``
  ResBlocks with ``widths[i]`` output channels. The first block of every stage **but the first**
  has stride 2 (it halves H and W); all other blocks have stride 1. The input width of a block is
  the output width of the one before it (``widths[0]`` for the very first block);
* global average pooling (globales Mittelwert-Pooling): the mean over H and W, giving (N, C);
* ``self.head``: ``Linear(widths[-1], n_out)``.

``ResNet(...)(x)`` maps (N, n_in, H, W) to logits (N, n_out) for every H, W >= 16, odd and
non-square included.

Use PyTorch's layers (``nn.Conv2d``, ``nn.BatchNorm2d`` with its defaults, ``nn.AvgPool2d``,
``nn.Linear``, ``nn.ReLU``). Forbidden: fastai and torchvision (``fastai.layers.ResBlock``,
``XResNet``, ``torchvision.models.resnet``): no importing, subclassing or wrapping them.
Results keep the dtype of the model and the input (``.double()`` models on float64 inputs are
checked at float64 precision).

Besides outputs and gradients, the hidden checks train a small ``ResNet(3, 2, layers=(1, 1),
widths=(8, 16))`` for about 20 SGD steps on synthetic stripe images (``checks/resnet/scenarios.py``,
described in ``checks/resnet/README.md``): its first losses must equal a trusted run's, and the
trained model must classify at least 90% of fresh test images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResBlock(nn.Module):
    """Residual block: ``relu(convs(x) + idpath(x))`` from ``ni`` to ``nf`` channels with ``stride``."""

    def __init__(self, ni: int, nf: int, stride: int = 1) -> None:
        """Create ``self.convs`` (conv-BN-ReLU-conv-BN), then ``self.idpath`` (see the module docstring)."""
        super().__init__()
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise resnet)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ni, H, W) -> (N, nf, ceil(H / stride), ceil(W / stride)); the ReLU after the addition."""
        # TODO: your code here
        raise NotImplementedError("forward: not implemented yet (exercise resnet)")


class ResNet(nn.Module):
    """Stem, stages of ResBlocks, global average pooling and a linear head: (N, n_in, H, W) -> (N, n_out)."""

    def __init__(self, n_in: int, n_out: int, layers: tuple[int, ...] = (1, 1, 1, 1),
                 widths: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        """Create ``self.stem``, the stages of ResBlocks (``self.stages``, e.g. an ``nn.Sequential`` of one
        ``nn.Sequential`` per stage) and ``self.head``, in this order."""
        super().__init__()
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise resnet)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stem, stages, the mean over H and W (global average pooling), head: logits (N, n_out)."""
        # TODO: your code here
        raise NotImplementedError("forward: not implemented yet (exercise resnet)")
