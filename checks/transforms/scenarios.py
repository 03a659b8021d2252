"""Scenarios for `transforms`: small transforms built on ``fasttransform.Transform`` that drive
your ``Pipeline`` and ``TfmdLists`` (the grader runs the same functions with fasttransform's
``Pipeline`` and fastai's ``TfmdLists`` and compares).

Every scenario gets your package as ``impl`` and plain data (tensors, numbers, lists) chosen at
random by the check, and returns plain data. You can call them yourself::

    import transforms, scenarios
    scenarios.pipeline_order(transforms, x=torch.randn(3, 5), consts=[1.5, 2.0, 0.5, 3.0])
"""

from __future__ import annotations

import typing as t

import torch
from fasttransform import Transform


class Add(Transform):
    """``x + a`` on tensors (other types pass through); decodes ``x - a``."""

    def __init__(self, a: float, order: int = 0, tag: str = "") -> None:
        super().__init__(order=order)
        self.a, self.tag = a, tag

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x + self.a

    def decodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x - self.a


class Scale(Transform):
    """``x * b`` on tensors; decodes ``x / b``."""

    def __init__(self, b: float, order: int = 0, tag: str = "") -> None:
        super().__init__(order=order)
        self.b, self.tag = b, tag

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x * self.b

    def decodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x / self.b


class Upper(Transform):
    """Upper-cases strings only; decodes to lower case."""

    def encodes(self, x: str):  # type: ignore[no-untyped-def]
        return x.upper()

    def decodes(self, x: str):  # type: ignore[no-untyped-def]
        return x.lower()


class Twice(Transform):
    """Doubles ints only; has no ``decodes`` (decoding leaves values alone)."""

    order = 2

    def encodes(self, x: int):  # type: ignore[no-untyped-def]
        return 2 * x


class Center(Transform):
    """Subtracts the mean of the items it was set up with; counts its set-ups."""

    def __init__(self, order: int = 0) -> None:
        super().__init__(order=order)
        self.n_setups, self.n_seen, self.mean = 0, 0, None

    def setups(self, items):  # type: ignore[no-untyped-def]
        xs = list(items)
        self.n_setups += 1
        self.n_seen = len(xs)
        self.mean = sum(xs) / len(xs)

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x - self.mean

    def decodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        return x + self.mean


class Stamp(Transform):
    """Doubles tensors and adds how many times it ran before: its outputs tell when it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def encodes(self, x: torch.Tensor):  # type: ignore[no-untyped-def]
        out = x * 2 + self.calls
        self.calls += 1
        return out


def _same(a: t.Any, b: t.Any) -> bool:
    return len(a) == len(b) and all(torch.equal(u, v) for u, v in zip(a, b))


def pipeline_order(impl: t.Any, *, seed: int = 0, x: torch.Tensor, consts: list[float]) -> dict[str, t.Any]:
    """Four transforms given out of order (orders 2, 1, 1, -1); encode, decode, and the inputs after."""
    a, b, c, d = consts
    funcs = [Add(a, order=2, tag="add a"), Scale(b, order=1, tag="scale b"), Add(c, order=1, tag="add c"),
             Scale(d, order=-1, tag="scale d")]
    given = list(funcs)
    x_before = x.clone()
    p = impl.Pipeline(funcs)
    y = p(x)
    return {"encoded": y, "decoded": p.decode(y), "decode_x": p.decode(x),
            "x_unchanged": torch.equal(x, x_before),
            "funcs_unchanged": len(funcs) == len(given) and all(f is g for f, g in zip(funcs, given))}


def type_dispatch(impl: t.Any, *, seed: int = 0, x: torch.Tensor, word: str, number: int, a: float) -> dict[str, t.Any]:
    """A tensor-only, a str-only and an int-only transform applied to several types and a tuple."""
    p = impl.Pipeline([Twice(), Add(a, order=1), Upper()])
    encoded = p((x, word, number))
    return {"tensor": p(x), "str": p(word), "int": p(number), "float": p(2.5),
            "tuple": encoded, "decoded_tuple": p.decode(encoded), "decoded_str": p.decode(word.upper())}


def tfmdlists_setup(impl: t.Any, *, seed: int = 0, items: list[torch.Tensor], splits: t.Any,
                    scale: float) -> dict[str, t.Any]:
    """``TfmdLists(items, [Center(order=1), Scale(scale, order=0)], splits)``: what set-up saw, the items."""
    copies = [x.clone() for x in items]
    given = list(items)
    center = Center(order=1)
    tl = impl.TfmdLists(items, [center, Scale(scale, order=0)], splits=splits)
    out: dict[str, t.Any] = {"mean": center.mean, "n_setups": center.n_setups, "n_seen": center.n_seen}
    out["all"] = [tl[i] for i in range(len(tl))]
    train, valid = tl.train, tl.valid
    out["lens"] = [len(tl), len(train), len(valid)]
    out["train"] = [train[i] for i in range(len(train))]
    out["valid"] = [valid[i] for i in range(len(valid))]
    out["iterated"] = list(tl)
    out["decoded"] = [tl.decode(y) for y in out["all"]]
    out["mean_after"], out["n_setups_after"] = center.mean, center.n_setups
    out["items_unchanged"] = _same(items, copies) and len(items) == len(given) and all(
        u is v for u, v in zip(items, given))
    return out


def lazy_access(impl: t.Any, *, seed: int = 0, items: list[torch.Tensor], splits: t.Any,
                probes: list[int]) -> dict[str, t.Any]:
    """``TfmdLists(items, [Stamp()], splits)``: ``tl[i]`` for each probe, then ``tl.train``, ``tl.valid`` and
    ``tl.valid[0]``. Each value is ``2 * items[i] + k`` where ``k`` is how often the transform ran before."""
    tl = impl.TfmdLists(items, [Stamp()], splits=splits)
    values = [tl[i] for i in probes]
    train, valid = tl.train, tl.valid
    return {"values": values, "valid0": valid[0], "n_train": len(train)}


def categorize(impl: t.Any, *, seed: int = 0, labels: list[str], splits: t.Any, probes: list[int]) -> dict[str, t.Any]:
    """``TfmdLists(labels, [Categorize()], splits)``; valid positions in ``probes`` have known labels."""
    cat = impl.Categorize()
    tl = impl.TfmdLists(labels, [cat], splits=splits)
    train = tl.train
    encoded = [train[i] for i in range(len(train))]
    valid = [tl.valid[k] for k in probes]
    decoded = [tl.decode(v) for v in encoded]
    return {"vocab": [str(v) for v in cat.vocab],
            "train": [int(v) for v in encoded], "valid": [int(v) for v in valid],
            "long_scalars": all(isinstance(v, torch.Tensor) and v.dtype == torch.long and v.dim() == 0
                                for v in encoded + valid),
            "decoded": [str(v) for v in decoded], "decoded_str": all(isinstance(v, str) for v in decoded)}


def normalize_in_place(impl: t.Any, *, seed: int = 0, items: list[torch.Tensor], splits: t.Any,
                       x: torch.Tensor) -> dict[str, t.Any]:
    """NormalizeMean standalone and inside a TfmdLists: are the inputs still as they were?"""
    copies, x_before = [v.clone() for v in items], x.clone()
    nm = impl.NormalizeMean()
    nm.setup(items)
    y = nm(x)
    back = nm.decode(y)
    tl = impl.TfmdLists(items, [impl.NormalizeMean()], splits=splits)
    values = list(tl)
    decoded = [tl.decode(v) for v in values]
    return {"y": y, "back": back, "x_after": x, "x_unchanged": torch.equal(x, x_before),
            "items_unchanged": _same(items, copies), "values": values, "decoded": decoded}


def siamese_epochs(impl: t.Any, *, seed: int = 0, items: list[torch.Tensor], labels: list[int],
                   splits: t.Any) -> dict[str, t.Any]:
    """``TfmdLists(range(n), [SiameseTransform(items, labels, splits)], splits)``: two passes over ``valid``."""
    st = impl.SiameseTransform(items, labels, splits)
    tl = impl.TfmdLists(list(range(len(items))), [st], splits=splits)
    valid, train = tl.valid, tl.train
    return {"valid_passes": [list(valid), list(valid)], "train": [train[k] for k in range(min(8, len(train)))]}


def lineage(impl: t.Any, *, seed: int = 0) -> dict[str, list[str]]:
    """The classes ``Pipeline`` and ``TfmdLists`` are built from (their MRO, as module.name): extra evidence
    only, the graders decide what your classes are built on from your source."""
    return {name: [f"{k.__module__}.{k.__qualname__}" for k in getattr(impl, name).__mro__]
            for name in ("Pipeline", "TfmdLists")}
