"""The mid-level data API from scratch: Pipeline and TfmdLists / Die Mid-Level-API von Grund auf.

fastai's data blocks are built from three ideas (fastbook, chapter 11):

* A **Transform** (``fasttransform.Transform``) bundles ``encodes`` (the transformation),
  ``decodes`` (its inverse, for showing data) and ``setups`` (state learned from data, e.g. a
  vocabulary or a mean). You call it as ``t(x)``, ``t.decode(y)`` and ``t.setup(items)``. It
  *dispatches on type*: ``def encodes(self, x: torch.Tensor)`` only touches tensors and returns
  every other value unchanged, and a tuple is transformed element by element. You may use
  ``Transform`` here: it is the building block, not the exercise.
* A **Pipeline** (``Pipeline([t1, t2, ...])``) composes transforms. It sorts them by their
  ``order`` attribute first, so ``Pipeline([b, a])`` with ``a.order < b.order`` computes ``b(a(x))``.
  Decoding undoes the steps in **reverse** order: ``a.decode(b.decode(y))``.
* A **TfmdLists** (``TfmdLists(items, tfms, splits)``) is a list of raw items plus a Pipeline.
  ``tl[i]`` is ``pipeline(items[i])``, computed **lazily** when you ask for it (think of a million
  image files: you never want to open all of them up front). ``splits = (train_idxs, valid_idxs)``
  gives ``tl.train`` and ``tl.valid``. When the TfmdLists is created, each transform is *set up*
  on the **training items only** (a vocabulary or a mean computed on the validation items too
  would leak the validation set into training, "Datenleck").

What the checks compare with fasttransform's ``Pipeline`` and fastai's ``TfmdLists`` (same
transforms, same items, random values), and what they require:

* ``Pipeline(funcs)``: ``funcs`` is a list of transforms (or a single one); a plain function
  ``f`` is wrapped as ``Transform(f)``. Sorted by ``order`` with a *stable* sort (ties keep the
  given order). Apply each transform as ``t(x)`` and ``t.decode(y)`` (not ``t.encodes(x)``: that
  skips type dispatch and tuple handling). The list you are given is not modified.
* ``TfmdLists(items, tfms, splits=None)``: ``splits=None`` means every item is a training item
  and ``valid`` is empty. Set-up happens once, at construction, transform after transform in
  pipeline order: ``t.setup(train)`` where ``train`` yields the training items *as the transforms
  before* ``t`` *produce them* (fastai passes a TfmdLists of the training split holding only the
  transforms set up so far; a lazy view like that is the easy way). ``train`` and ``valid`` are
  TfmdLists of the split's items that share the already set-up transforms (never set them up
  again). ``len(tl)``, iteration and ``tl.decode(y)`` (the pipeline's decode) work. Nothing is
  transformed before it is asked for, and the ``items`` list is never modified.
* ``NormalizeMean``, ``Categorize``, ``SiameseTransform``: see their docstrings.
* Values and objects are never changed in place (no ``x -= ...`` on an input).

Forbidden: ``fasttransform.Pipeline`` (and its helper ``compose_tfms``), fastai altogether
(``fastai.data.core.TfmdLists``, ``Categorize``, ...), and star imports (``from fasttransform
import *``): import ``Transform`` by name.
"""

from __future__ import annotations

import random
import typing as t

import torch
from fasttransform import Transform


class Pipeline:
    """Compose transforms, sorted by their ``order``; ``decode`` undoes them in reverse order.

    ``Pipeline(funcs)`` keeps the sorted transforms in ``self.fs`` (a new list: the caller's list
    is not touched). ``p(x)`` applies ``t(x)`` for every ``t`` in ``self.fs`` in turn;
    ``p.decode(y)`` applies ``t.decode(y)`` from the last transform to the first.

    Hint: ``sorted(..., key=...)`` is stable; ``getattr(t, "order", 0)``.
    """

    def __init__(self, funcs: t.Any = None) -> None:
        # BEGIN SOLUTION
        if funcs is None:
            funcs = []
        if not isinstance(funcs, (list, tuple)):
            funcs = [funcs]
        fs = [f if isinstance(f, Transform) else Transform(f) for f in funcs]
        self.fs = sorted(fs, key=lambda f: getattr(f, "order", 0))
        # END SOLUTION

    def __call__(self, o: t.Any) -> t.Any:
        """Apply every transform, lowest ``order`` first."""
        # BEGIN SOLUTION
        for f in self.fs:
            o = f(o)
        return o
        # END SOLUTION

    def decode(self, o: t.Any) -> t.Any:
        """Undo the transforms: ``t.decode`` of the last transform first."""
        # BEGIN SOLUTION
        for f in reversed(self.fs):
            o = f.decode(o)
        return o
        # END SOLUTION

    def __repr__(self) -> str:
        return "Pipeline: " + " -> ".join(type(f).__name__ for f in getattr(self, "fs", []))


class TfmdLists:
    """Raw ``items`` plus a Pipeline of ``tfms``, transformed lazily; ``train``/``valid`` splits.

    * ``TfmdLists(items, tfms, splits=None)``: ``splits`` is ``(train_idxs, valid_idxs)`` (lists
      of indices into ``items``) or ``None`` (all items are training items, ``valid`` is empty).
    * At construction, and only then, set up the transforms in pipeline order: each ``t.setup(...)``
      gets the **training** items as transformed by the transforms before ``t``.
    * ``tl[i]`` is ``pipeline(items[i])``, computed when asked for; ``len(tl)``; iteration.
    * ``tl.train`` / ``tl.valid``: TfmdLists of the split's items with the same, already set-up
      transforms. ``tl.decode(y)``: the pipeline's decode.

    Hint: build the Pipeline with no transforms, then add the sorted transforms one by one,
    calling ``t.setup(self.train)`` just before adding ``t``; a helper that makes a TfmdLists
    without setting anything up (``_subset`` below) serves ``train``, ``valid`` and the set-up.
    """

    def __init__(self, items: t.Sequence[t.Any], tfms: t.Any, splits: t.Any = None) -> None:
        # BEGIN SOLUTION
        self.items = items
        n = len(items)
        self.splits = [list(range(n)), []] if splits is None else [list(s) for s in splits]
        sorted_tfms = Pipeline(tfms).fs
        self.tfms = Pipeline([])
        for tfm in sorted_tfms:
            tfm.setup(self.train)  # sees the training items through the transforms added so far
            self.tfms.fs.append(tfm)
        # END SOLUTION

    @classmethod
    def _subset(cls, items: t.Sequence[t.Any], tfms: Pipeline) -> "TfmdLists":
        """A TfmdLists over ``items`` that shares ``tfms`` as they are (no set-up)."""
        # BEGIN SOLUTION
        tl = cls.__new__(cls)
        tl.items, tl.tfms = items, tfms
        tl.splits = [list(range(len(items))), []]
        return tl
        # END SOLUTION

    @property
    def train(self) -> "TfmdLists":
        """The training split: a TfmdLists of ``items[i] for i in train_idxs``, same transforms."""
        # BEGIN SOLUTION
        return self._subset([self.items[i] for i in self.splits[0]], self.tfms)
        # END SOLUTION

    @property
    def valid(self) -> "TfmdLists":
        """The validation split: a TfmdLists of ``items[i] for i in valid_idxs``, same transforms."""
        # BEGIN SOLUTION
        return self._subset([self.items[i] for i in self.splits[1]], self.tfms)
        # END SOLUTION

    def __getitem__(self, i: int) -> t.Any:
        """``pipeline(items[i])``, computed now (lazily), for an int index ``i``."""
        # BEGIN SOLUTION
        return self.tfms(self.items[i])
        # END SOLUTION

    def __len__(self) -> int:
        # BEGIN SOLUTION
        return len(self.items)
        # END SOLUTION

    def __iter__(self) -> t.Iterator[t.Any]:
        # BEGIN SOLUTION
        return (self[i] for i in range(len(self)))
        # END SOLUTION

    def decode(self, o: t.Any) -> t.Any:
        """The pipeline's decode of ``o``."""
        # BEGIN SOLUTION
        return self.tfms.decode(o)
        # END SOLUTION

    def __repr__(self) -> str:
        return f"TfmdLists({len(getattr(self, 'items', []))} items, {getattr(self, 'tfms', None)!r})"


class NormalizeMean(Transform):
    """Subtract the mean of the training items (fastbook ch. 11), and add it back to decode.

    * ``setups(items)``: ``self.mean = sum(items) / len(items)``, the elementwise mean over the
      items (a tensor shaped like one item, in the items' dtype: float64 stays float64).
    * ``encodes(x)``: ``x - self.mean``; ``decodes(x)``: ``x + self.mean``. Return new tensors,
      never change ``x`` in place (no ``x -= ...``).
    * ``encodes``/``decodes`` are annotated ``x: torch.Tensor``: other types (str, int, ...) pass
      through unchanged. Keep the annotations.
    """

    def setups(self, items):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        xs = list(items)
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        self.mean = total / len(xs)
        # END SOLUTION

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        return x - self.mean
        # END SOLUTION

    def decodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        return x + self.mean
        # END SOLUTION


class Categorize(Transform):
    """Map a label to its index in a vocabulary built from the training labels (like fastai's).

    * ``order = 1`` (as fastai's ``Categorize``).
    * ``setups(items)``: ``self.vocab`` = the **sorted** list of the distinct labels in ``items``
      (the training labels only, when a TfmdLists sets it up); a plain ``list``.
    * ``encodes(o)``: the index of label ``o`` in ``vocab`` as a 0-dim ``torch.long`` tensor
      (``torch.tensor(i)``); a label not in the vocabulary raises ``KeyError``.
    * ``decodes(o)``: the label ``vocab[int(o)]`` (a plain ``str`` for string labels).

    Hint: a dict ``label -> index`` makes ``encodes`` fast.
    """

    order = 1

    def setups(self, items):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        self.vocab = sorted(set(items))
        self.o2i = {o: i for i, o in enumerate(self.vocab)}
        # END SOLUTION

    def encodes(self, o):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        return torch.tensor(self.o2i[o])
        # END SOLUTION

    def decodes(self, o):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        return self.vocab[int(o)]
        # END SOLUTION


class SiameseTransform(Transform):
    """Turn an index ``i`` into a pair ``(items[i], items[j], same)`` (fastbook ch. 11).

    * ``SiameseTransform(items, labels, splits)``: ``items`` (e.g. image tensors) and ``labels``
      (a list, or a 1-d tensor) have the same length; ``splits = (train_idxs, valid_idxs)``.
    * Drawing a partner for ``i``: ``same = random.random() < 0.5``; the class is ``labels[i]``
      if ``same``, otherwise one of the *other* classes chosen uniformly; ``j`` is a random index
      of that class (any item of the dataset). So ``labels[j] == labels[i]`` exactly when
      ``same`` is true, and about half of all pairs are "same".
    * ``encodes(i)`` returns the tuple ``(items[i], items[j], same)`` with ``same`` a Python
      ``bool``. For an ``i`` of the validation split the partner is drawn **once**, in
      ``__init__``, and the same pair comes back at every call (a validation set must not change
      between epochs); for training indices a new partner is drawn at every call.

    Use Python's ``random`` module (the checks look at frequencies, not at particular draws).
    """

    def __init__(self, items: t.Sequence[t.Any], labels: t.Any, splits: t.Any) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.items = list(items)
        self.labels = labels.tolist() if hasattr(labels, "tolist") else list(labels)
        self.by_label: dict[t.Any, list[int]] = {}
        for i, label in enumerate(self.labels):
            self.by_label.setdefault(label, []).append(i)
        self.classes = list(self.by_label)
        self.valid = {int(i): self._draw(int(i)) for i in splits[1]}
        # END SOLUTION

    def _draw(self, i: int) -> tuple[int, bool]:
        """Draw a partner ``(j, same)`` for item ``i``."""
        # BEGIN SOLUTION
        same = random.random() < 0.5
        cls = self.labels[i]
        if not same:
            cls = random.choice([c for c in self.classes if c != cls])
        return random.choice(self.by_label[cls]), same
        # END SOLUTION

    def encodes(self, i):  # type: ignore[no-untyped-def]
        # BEGIN SOLUTION
        i = int(i)
        j, same = self.valid[i] if i in self.valid else self._draw(i)
        return (self.items[i], self.items[j], same)
        # END SOLUTION
