"""Trusted implementation of the `siamese` API (fastai's Siamese tutorial / fastbook ch. 15), in torch.

fastai ships no SiameseModel of its own: the tutorial's model is these few lines, and its splitter
is ``[params(model.encoder), params(model.head)]``.
"""

from __future__ import annotations

import random
import typing as t

import torch
from torch import nn

__all__ = ["SiameseModel", "siamese_splitter", "make_pairs"]


class SiameseModel(nn.Module):
    def __init__(self, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.encoder(x1), self.encoder(x2)], dim=1))


def siamese_splitter(model: SiameseModel) -> list[list[nn.Parameter]]:
    return [list(model.encoder.parameters()), list(model.head.parameters())]


def make_pairs(labels: t.Any, n: int, seed: int) -> list[tuple[int, int, bool]]:
    rng = random.Random(seed)
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    by_label: dict[t.Any, list[int]] = {}
    for i, label in enumerate(values):
        by_label.setdefault(label, []).append(i)
    pairs = []
    for _ in range(n):
        i = rng.randrange(len(values))
        cls = values[i]
        if rng.random() >= 0.5:
            cls = rng.choice([c for c in by_label if c != cls])
        j = rng.choice(by_label[cls])
        pairs.append((i, j, bool(values[i] == values[j])))
    return pairs
