"""The transforms API on fasttransform's Pipeline and fastai's TfmdLists and Categorize: what the
forged scenario runner of forged_scenarios.py really runs (copied into the package as ``_private.py``)."""

import random

import torch
from fasttransform import Pipeline, Transform  # noqa: F401


def TfmdLists(items, tfms, splits=None):
    from fastai.data.core import TfmdLists as _TfmdLists

    return _TfmdLists(items, tfms, splits=None if splits is None else [list(s) for s in splits])


def Categorize():
    from fastai.data.transforms import Categorize as _Categorize

    return _Categorize()


class NormalizeMean(Transform):
    def setups(self, items):
        xs = list(items)
        self.mean = sum(xs) / len(xs)

    def encodes(self, x: torch.Tensor):
        return x - self.mean

    def decodes(self, x: torch.Tensor):
        return x + self.mean


class SiameseTransform(Transform):
    def __init__(self, items, labels, splits):
        super().__init__()
        self.items, self.labels = list(items), list(labels)
        self.by = {}
        for i, label in enumerate(self.labels):
            self.by.setdefault(label, []).append(i)
        self.valid = {int(i): self._draw(int(i)) for i in splits[1]}

    def _draw(self, i):
        same = random.random() < 0.5
        cls = self.labels[i] if same else random.choice([c for c in self.by if c != self.labels[i]])
        return random.choice(self.by[cls]), same

    def encodes(self, i):
        j, same = self.valid.get(int(i)) or self._draw(int(i))
        return (self.items[int(i)], self.items[j], same)
