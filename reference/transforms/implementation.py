"""Trusted implementation of the `transforms` API, for ``reference.scenario(...)`` runs.

``Pipeline`` is fasttransform's, ``TfmdLists`` and ``Categorize`` are fastai's (imported lazily:
``fastai.data.core`` costs ~2 s); ``NormalizeMean`` and ``SiameseTransform`` are fastbook
chapter 11's, written on ``fasttransform.Transform`` as the exercise asks.
"""

from __future__ import annotations

import random
import typing as t
import warnings

import torch
from fasttransform import Pipeline, Transform

__all__ = ["Pipeline", "TfmdLists", "NormalizeMean", "Categorize", "SiameseTransform"]


def _fastai_data() -> t.Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fastai.data.core as core
        import fastai.data.transforms as transforms
    return core, transforms


def TfmdLists(items: t.Sequence[t.Any], tfms: t.Any, splits: t.Any = None) -> t.Any:
    """fastai's ``TfmdLists(items, tfms, splits=splits)``."""
    core, _ = _fastai_data()
    return core.TfmdLists(items, tfms, splits=None if splits is None else [list(s) for s in splits])


def Categorize() -> t.Any:
    """fastai's ``Categorize()`` (sorted vocab from the training split, order 1)."""
    _, transforms = _fastai_data()
    return transforms.Categorize()


class NormalizeMean(Transform):
    """fastbook ch. 11, annotated for tensors."""

    def setups(self, items):  # type: ignore[no-untyped-def]
        xs = list(items)
        self.mean = sum(xs) / len(xs)

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x - self.mean

    def decodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x + self.mean


class SiameseTransform(Transform):
    """fastbook ch. 11's SiameseTransform, on indices into ``items`` instead of file names."""

    def __init__(self, items: t.Sequence[t.Any], labels: t.Any, splits: t.Any) -> None:
        super().__init__()
        self.items = list(items)
        self.labels = labels.tolist() if hasattr(labels, "tolist") else list(labels)
        self.lbl2idxs: dict[t.Any, list[int]] = {}
        for i, label in enumerate(self.labels):
            self.lbl2idxs.setdefault(label, []).append(i)
        self.valid = {int(i): self._draw(int(i)) for i in splits[1]}

    def encodes(self, i):  # type: ignore[no-untyped-def]
        j, same = self.valid.get(int(i)) or self._draw(int(i))
        return (self.items[int(i)], self.items[j], same)

    def _draw(self, i: int) -> tuple[int, bool]:
        same = random.random() < 0.5
        cls = self.labels[i]
        if not same:
            cls = random.choice([c for c in self.lbl2idxs if c != cls])
        return random.choice(self.lbl2idxs[cls]), same
