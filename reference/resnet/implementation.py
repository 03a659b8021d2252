"""Trusted implementation of the `resnet` API for scenarios (the reference training run).

fastai's ``ResBlock`` semantics (``fastai.layers.ResBlock(1, ni, nf, stride)`` with plain BatchNorm
and ReLU: conv-BN-ReLU-conv-BN, the identity path pools with ``AvgPool2d(stride, ceil_mode=True)``
first, then projects with a 1x1 conv + BN, ReLU after the addition) in a torchvision-shaped ResNet,
written with torch layers so that grading does not pay a second for importing fastai.
``python -m reference.resnet.selftest`` checks it (and the functional rebuild in reference.py)
against fastai's own ResBlock.
"""

from __future__ import annotations

import typing as t

import torch
import torch.nn.functional as F
from torch import nn


class ResBlock(nn.Module):
    def __init__(self, ni: int, nf: int, stride: int = 1) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(ni, nf, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(nf), nn.ReLU(),
            nn.Conv2d(nf, nf, 3, padding=1, bias=False), nn.BatchNorm2d(nf))
        pool = [nn.AvgPool2d(stride, ceil_mode=True)] if stride != 1 else []
        project = [nn.Conv2d(ni, nf, 1, bias=False), nn.BatchNorm2d(nf)] if ni != nf else []
        self.idpath = nn.Sequential(*pool, *project)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.convs(x) + self.idpath(x))


class ResNet(nn.Module):
    def __init__(self, n_in: int, n_out: int, layers: t.Sequence[int] = (1, 1, 1, 1),
                 widths: t.Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(n_in, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        blocks, ni = [], widths[0]
        for i, (n_blocks, nf) in enumerate(zip(layers, widths)):
            for j in range(n_blocks):
                blocks.append(ResBlock(ni, nf, 2 if i > 0 and j == 0 else 1))
                ni = nf
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(widths[-1], n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))
