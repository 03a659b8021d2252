"""Trusted reference for `one_cycle`: fastai's own schedule functions, and known mistakes.

Only the grader's process imports this. fastai is imported lazily (it takes seconds).

fastai's ``combine_scheds`` keeps the phase boundaries in a float32 tensor, so its position
inside a phase carries float32 rounding (about 1e-7). Near a value of 0 (the end of the
learning-rate annealing) that is a large *relative* error, so values are compared with
rtol 1e-5 plus an absolute tolerance of 1e-5 times the schedule's scale (its largest |value|).
The checks' phase fractions are multiples of 1/64 (exact in float32), so fastai and a float64
implementation agree on which phase a boundary position belongs to.
"""

from __future__ import annotations

import math
import typing as t
import warnings

RTOL = 1e-5


def fastai_schedule() -> t.Any:
    """``fastai.callback.schedule``, imported on first use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fastai.callback.schedule as schedule
    return schedule


def sched(kind: str, start: float, end: float, pos: float) -> float:
    """fastai's ``sched_<kind>(start, end, pos)``."""
    return float(getattr(fastai_schedule(), f"sched_{kind}")(start, end, pos))


def poly(start: float, end: float, power: float) -> t.Callable[[float], float]:
    """fastai's ``SchedPoly``: the phase function the combine scenario builds (``scenarios.poly_phase``)."""
    return fastai_schedule().SchedPoly(start, end, power)


def combined(pcts: t.Sequence[float], phases: t.Sequence[tuple[float, float, float]],
             positions: t.Sequence[float]) -> list[float]:
    """fastai's ``combine_scheds(pcts, [SchedPoly(*phase) ...])`` at every position."""
    f = fastai_schedule().combine_scheds(list(pcts), [poly(*p) for p in phases])
    return [float(f(p)) for p in positions]


def combined_cos(pct: float, start: float, middle: float, end: float, positions: t.Sequence[float]) -> list[float]:
    """fastai's ``combined_cos(pct, start, middle, end)`` at every position."""
    f = fastai_schedule().combined_cos(pct, start, middle, end)
    return [float(f(p)) for p in positions]


def one_cycle(n_iter: int, lr_max: float, div: float = 25., div_final: float = 1e5, pct_start: float = 0.25,
              moms: tuple[float, float, float] = (0.95, 0.85, 0.95)) -> tuple[list[float], list[float]]:
    """What ``Learner.fit_one_cycle`` schedules (its ``scheds`` dict, fastai's defaults), batch i at i/n_iter."""
    s = fastai_schedule()
    lr = s.combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)
    mom = s.combined_cos(pct_start, *moms)
    pos = [i / n_iter for i in range(n_iter)]
    return [float(lr(p)) for p in pos], [float(mom(p)) for p in pos]


# -- known mistakes (computed in plain Python; only used to name a mistake in a message) ----------

def _cos(a: float, b: float, p: float) -> float:
    return a + (1 + math.cos(math.pi * (1 - p))) * (b - a) / 2


def _lin(a: float, b: float, p: float) -> float:
    return a + p * (b - a)


def _two_phase(pct: float, f1: t.Callable[[float], float], f2: t.Callable[[float], float],
               reset: bool = True) -> t.Callable[[float], float]:
    def f(p: float) -> float:
        if p < pct:
            return f1(p / pct if reset else p)
        return f2((p - pct) / (1 - pct) if reset else p)
    return f


def combined_cos_mistakes(pct: float, start: float, middle: float, end: float,
                          positions: t.Sequence[float]) -> dict[str, list[float]]:
    """Values of typical wrong ``combined_cos`` implementations, keyed by the description."""
    wrong = {
        "both phases are linear instead of cosine":
            _two_phase(pct, lambda p: _lin(start, middle, p), lambda p: _lin(middle, end, p)),
        "the position is not reset to run from 0 to 1 inside each phase":
            _two_phase(pct, lambda p: _cos(start, middle, p), lambda p: _cos(middle, end, p), reset=False),
        "the phases are split at 1 - pct instead of pct":
            _two_phase(1 - pct, lambda p: _cos(start, middle, p), lambda p: _cos(middle, end, p)),
        "the cosine runs backwards (cos(pi * pos) instead of cos(pi * (1 - pos)))":
            _two_phase(pct, lambda p: _cos(middle, start, p), lambda p: _cos(end, middle, p)),
    }
    return {k: [f(p) for p in positions] for k, f in wrong.items()}


def one_cycle_mistakes(n_iter: int, lr_max: float, div: float = 25., div_final: float = 1e5,
                       pct_start: float = 0.25, moms: tuple[float, float, float] = (0.95, 0.85, 0.95)
                       ) -> dict[str, dict[str, list[float]]]:
    """Wrong learning-rate and momentum lists, as ``{"lrs": {description: values}, "moms": {...}}``."""
    def run(pct: float, a: float, b: float, c: float, positions: list[float], cos: bool = True,
            reset: bool = True) -> list[float]:
        g = _cos if cos else _lin
        f = _two_phase(pct, lambda p: g(a, b, p), lambda p: g(b, c, p), reset=reset)
        return [f(p) for p in positions]

    pos = [i / n_iter for i in range(n_iter)]
    pos_last_one = [i / (n_iter - 1) for i in range(n_iter)] if n_iter > 1 else pos
    lo, hi, fin = lr_max / div, lr_max, lr_max / div_final
    lrs = {
        "the learning rate is annealed linearly instead of with a cosine": run(pct_start, lo, hi, fin, pos, cos=False),
        "div_final is ignored (the run should end at lr_max / div_final)": run(pct_start, lo, hi, lo, pos),
        "the warm-up takes 1 - pct_start of the run instead of pct_start": run(1 - pct_start, lo, hi, fin, pos),
        "the position is not reset inside each phase": run(pct_start, lo, hi, fin, pos, reset=False),
        "batch i is put at i / (n_iter - 1) instead of i / n_iter": run(pct_start, lo, hi, fin, pos_last_one),
        "div is ignored (the warm-up should start at lr_max / div)": run(pct_start, hi, hi, fin, pos),
    }
    m0, m1, m2 = moms
    momentum = {
        "the momentum moves with the learning rate instead of against it (it must go down while the "
        "learning rate goes up)": run(pct_start, min(moms), max(moms), min(moms), pos),
        "the momentum is annealed linearly instead of with a cosine": run(pct_start, m0, m1, m2, pos, cos=False),
        "the warm-up takes 1 - pct_start of the run instead of pct_start": run(1 - pct_start, m0, m1, m2, pos),
        "batch i is put at i / (n_iter - 1) instead of i / n_iter": run(pct_start, m0, m1, m2, pos_last_one),
    }
    return {"lrs": lrs, "moms": momentum}


# -- comparing lists of numbers ------------------------------------------------------------------

def _type_name(value: object) -> str:
    remote = getattr(value, "remote_type", None)
    if isinstance(remote, str):
        return remote
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def check_numbers(actual: object, expected: t.Sequence[float], *, what: str, scale: float | None = None,
                  hints: t.Mapping[str, t.Sequence[float]] | None = None, single: bool = False) -> None:
    """Fail unless ``actual`` is a list of Python numbers (or one number when ``single``) close to ``expected``.

    Tolerance: rtol 1e-5 plus atol 1e-5 * ``scale`` (default: the largest |expected|).
    """
    __tracebackhide__ = True
    import torch

    from grader.testing import CheckFailed, assert_tensor_close, fail

    if single:
        if type(actual) not in (float, int):
            fail(f"{what} returned a {_type_name(actual)}, but a Python float is expected.")
        values = [actual]
    else:
        if type(actual) not in (list, tuple):
            fail(f"{what} returned a {_type_name(actual)}, but a list of Python floats is expected.")
        values = list(t.cast(t.Sequence[t.Any], actual))
        if len(values) != len(expected):
            fail(f"{what} returned {len(values)} values, but {len(expected)} are expected.")
        for i, v in enumerate(values):
            if type(v) not in (float, int):
                fail(f"{what}: element {i} is a {_type_name(v)}, but Python floats are expected.")
    peak = max((abs(v) for v in expected if math.isfinite(v)), default=1.0) if scale is None else scale
    rtol, atol = RTOL, RTOL * peak

    def close(a: t.Sequence[float], b: t.Sequence[float]) -> bool:
        return len(a) == len(b) and all(abs(x - y) <= atol + rtol * abs(y) for x, y in zip(a, b))

    as_tensor = lambda vs: torch.tensor([float(v) for v in vs], dtype=torch.float64)
    try:
        assert_tensor_close(as_tensor(values), as_tensor(expected), what=what, dtype=torch.float64,
                            rtol=rtol, atol=atol)
    except CheckFailed as exc:
        # name a known mistake, matched with the check's own tolerance (the platform's hint
        # matching has an absolute floor of 1e-4, too coarse for learning rates of 1e-3)
        for description, wrong in (hints or {}).items():
            if close([float(v) for v in values], wrong):
                raise CheckFailed(f"{exc}\nIt looks like {description}.") from None
        raise
