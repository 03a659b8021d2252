"""Trusted values for `transforms`: what the scenarios' transforms compute, and known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t

import torch

#: What the source may not reach, by any name: resolved here against fasttransform (reference/learner/lineage.py).
BUILT_FROM_SCRATCH = dict(
    package="transforms", classes=["Pipeline", "TfmdLists", "NormalizeMean", "Categorize", "SiameseTransform"],
    forbidden=["fasttransform.transform.Pipeline", "fasttransform.transform.compose_tfms"],
    forbidden_bases=["fasttransform.transform.Pipeline"], forbidden_modules=["fastai"])

#: The transforms of the ``pipeline_order`` scenario as (kind, constant index, order), in the
#: order they are given to ``Pipeline``.
PIPELINE_ORDER = [("add", 0, 2), ("scale", 1, 1), ("add", 2, 1), ("scale", 3, -1)]


def _apply(x: torch.Tensor, consts: t.Sequence[float], steps: t.Sequence[tuple[str, int, int]],
           decode: bool = False) -> torch.Tensor:
    y = x.detach().cpu().double()
    for kind, k, _ in steps:
        c = consts[k]
        if kind == "add":
            y = y - c if decode else y + c
        else:
            y = y / c if decode else y * c
    return y


def _stable(steps: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    return sorted(steps, key=lambda s: s[2])


def encode_ref(x: torch.Tensor, consts: t.Sequence[float]) -> torch.Tensor:
    """The pipeline applied in stable ``order`` order, in float64."""
    return _apply(x, consts, _stable(PIPELINE_ORDER))


def decode_ref(y: torch.Tensor, consts: t.Sequence[float]) -> torch.Tensor:
    return _apply(y, consts, _stable(PIPELINE_ORDER)[::-1], decode=True)


def encode_mistakes(x: torch.Tensor, consts: t.Sequence[float]) -> dict[str, t.Callable[[], torch.Tensor]]:
    given = list(PIPELINE_ORDER)
    ties_reversed = sorted(given[::-1], key=lambda s: s[2])
    return {
        "the transforms ran in the order they were given, not sorted by their `order`":
            lambda: _apply(x, consts, given),
        "the transforms ran from the highest `order` to the lowest": lambda: _apply(x, consts, _stable(given)[::-1]),
        "transforms with the same `order` ran in reverse of the given order (the sort must be stable)":
            lambda: _apply(x, consts, ties_reversed),
    }


def decode_mistakes(y: torch.Tensor, consts: t.Sequence[float]) -> dict[str, t.Callable[[], torch.Tensor]]:
    given = list(PIPELINE_ORDER)
    return {
        "decode undid the transforms in the forward order; it must start with the last transform":
            lambda: _apply(y, consts, _stable(given), decode=True),
        "decode encoded again instead of decoding": lambda: _apply(y, consts, _stable(given)),
        "decode did nothing": lambda: y.detach().cpu().double(),
    }


def mean_ref(items: t.Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.stack([x.detach().cpu().double() for x in items]).mean(0)


def mean_mistakes(items: t.Sequence[torch.Tensor]) -> dict[str, t.Callable[[], torch.Tensor]]:
    stacked = torch.stack([x.detach().cpu() for x in items])
    out: dict[str, t.Callable[[], torch.Tensor]] = {
        "one mean over all values was taken, not the elementwise mean over the items":
            lambda: stacked.double().mean().expand(stacked.shape[1:]),
    }
    if stacked.dtype == torch.float64:  # the closest rounding first: hints match within 1e-4
        out["the float64 items were averaged in float32"] = lambda: stacked.float().mean(0).double()

    def low(kind: torch.dtype) -> torch.Tensor:
        total = stacked[0].to(kind)
        for x in stacked[1:]:
            total = total + x.to(kind)
        return (total / len(stacked)).double()

    out["the mean was computed in float16"] = lambda: low(torch.float16)
    out["the mean was computed in bfloat16"] = lambda: low(torch.bfloat16)
    return out
