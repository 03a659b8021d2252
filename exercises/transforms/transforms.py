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
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise transforms)")

    def __call__(self, o: t.Any) -> t.Any:
        """Apply every transform, lowest ``order`` first."""
        # TODO: your code here
        raise NotImplementedError("__call__: not implemented yet (exercise transforms)")

    def decode(self, o: t.Any) -> t.Any:
        """Undo the transforms: ``t.decode`` of the last transform first."""
        # TODO: your code here
        raise NotImplementedError("decode: not implemented yet (exercise transforms)")

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
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise transforms)")

    @classmethod
    def _subset(cls, items: t.Sequence[t.Any], tfms: Pipeline) -> "TfmdLists":
        """A TfmdLists over ``items`` that shares ``tfms`` as they are (no set-up)."""
        # TODO: your code here
        raise NotImplementedError("_subset: not implemented yet (exercise transforms)")

    @property
    def train(self) -> "TfmdLists":
        """The training split: a TfmdLists of ``items[i] for i in train_idxs``, same transforms."""
        # TODO: your code here
        raise NotImplementedError("train: not implemented yet (exercise transforms)")

    @property
    def valid(self) -> "TfmdLists":
        """The validation split: a TfmdLists of ``items[i] for i in valid_idxs``, same transforms."""
        # TODO: your code here
        raise NotImplementedError("valid: not implemented yet (exercise transforms)")

    def __getitem__(self, i: int) -> t.Any:
        """``pipeline(items[i])``, computed now (lazily), for an int index ``i``."""
        # TODO: your code here
        raise NotImplementedError("__getitem__: not implemented yet (exercise transforms)")

    def __len__(self) -> int:
        # TODO: your code here
        raise NotImplementedError("__len__: not implemented yet (exercise transforms)")

    def __iter__(self) -> t.Iterator[t.Any]:
        # TODO: your code here
        raise NotImplementedError("__iter__: not implemented yet (exercise transforms)")

    def decode(self, o: t.Any) -> t.Any:
        """The pipeline's decode of ``o``."""
        # TODO: your code here
        raise NotImplementedError("decode: not implemented yet (exercise transforms)")

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
        # TODO: your code here
        raise NotImplementedError("setups: not implemented yet (exercise transforms)")

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        # TODO: your code here
        raise NotImplementedError("encodes: not implemented yet (exercise transforms)")

    def decodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        # TODO: your code here
        raise NotImplementedError("decodes: not implemented yet (exercise transforms)")


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
        # TODO: your code here
        raise NotImplementedError("setups: not implemented yet (exercise transforms)")

    def encodes(self, o):  # type: ignore[no-untyped-def]
        # TODO: your code here
        raise NotImplementedError("encodes: not implemented yet (exercise transforms)")

    def decodes(self, o):  # type: ignore[no-untyped-def]
        # TODO: your code here
        raise NotImplementedError("decodes: not implemented yet (exercise transforms)")


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
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise transforms)")

    def _draw(self, i: int) -> tuple[int, bool]:
        """Draw a partner ``(j, same)`` for item ``i``."""
        # TODO: your code here
        raise NotImplementedError("_draw: not implemented yet (exercise transforms)")

    def encodes(self, i):  # type: ignore[no-untyped-def]
        # TODO: your code here
        raise NotImplementedError("encodes: not implemented yet (exercise transforms)")
