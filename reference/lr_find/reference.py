"""Trusted helpers for `lr_find`'s hidden checks: comparing runs, and the runs of known mistakes.

The reference values come from ``implementation.py`` (fastai's LRFinder, Recorder, valley,
minimum, steep). The variants below are plain-Python versions of typical mistakes; they only
serve to name a mistake in a message when a student's run matches one of them.
"""

from __future__ import annotations

import math
import typing as t
from pathlib import Path

import torch

from grader.scenarios import load_scenario_file
from grader.testing import CheckFailed, assert_tensor_close, fail

#: Relative tolerance for recorded values (a float32 implementation, like fastai's own, passes).
RTOL = 1e-5
#: A reference run whose smoothed loss comes this close (relatively) to 4x the best is redrawn:
#: a float32 implementation could decide the other way there.
THRESHOLD_MARGIN = 1e-4


def type_name(value: object) -> str:
    remote = getattr(value, "remote_type", None)
    if isinstance(remote, str):
        return remote
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def scenarios() -> t.Any:
    """``checks/lr_find/scenarios.py``, imported here (the scripted trainer, for the mistake runs)."""
    return load_scenario_file(Path(__file__).resolve().parents[2] / "checks" / "lr_find" / "scenarios.py")


def as_floats(value: object, what: str) -> list[float]:
    """A list/tuple of numbers or a 1-D tensor as a list of floats; fail with a clear message otherwise."""
    __tracebackhide__ = True
    if isinstance(value, torch.Tensor) and type(value) in (torch.Tensor, torch.nn.Parameter):
        if value.dim() != 1:
            fail(f"{what} is a tensor of shape {tuple(value.shape)}, but a list of floats is expected.")
        return [float(v) for v in value.detach().cpu().double()]
    if type(value) not in (list, tuple):
        fail(f"{what} is a {type_name(value)}, but a list of Python floats is expected.")
    out = []
    for i, v in enumerate(t.cast(t.Sequence[t.Any], value)):
        if type(v) not in (float, int):
            fail(f"{what}: element {i} is a {type_name(v)}, but Python floats are expected.")
        out.append(float(v))
    return out


def as_pair(value: object, what: str) -> tuple[object, object]:
    __tracebackhide__ = True
    if type(value) not in (list, tuple) or len(t.cast(t.Sized, value)) != 2:
        fail(f"{what} returned a {type_name(value)}, but a pair (lrs, losses) is expected.")
    first, second = t.cast(t.Sequence[object], value)
    return first, second


def _close(actual: t.Sequence[float], expected: t.Sequence[float], rtol: float) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == e or abs(a - e) <= rtol * abs(e)
        for a, e in zip(actual, expected))


def check_floats(actual: list[float], expected: list[float], *, what: str, rtol: float = RTOL,
                 hints: t.Mapping[str, t.Callable[[], list[float] | None]] | None = None,
                 length_message: str | None = None) -> None:
    """Compare two lists of floats (relative tolerance, NaN equals NaN); name a matching mistake.

    ``hints`` are evaluated only when the values differ; a hint matches with the same relative
    tolerance (the platform's hint matching has an absolute floor of 1e-4, too coarse for
    learning rates of 1e-7).
    """
    __tracebackhide__ = True
    if _close(actual, expected, rtol):
        return

    def hint() -> str:
        for description, candidate in (hints or {}).items():
            try:
                value = candidate()
            except Exception:
                continue
            if value is not None and _close(actual, list(value), rtol):
                return f"\nIt looks like {description}."
        return ""

    if len(actual) != len(expected):
        fail((length_message or f"{what} has {len(actual)} values, but {len(expected)} are expected.") + hint())
    as_t = lambda vs: torch.tensor(vs, dtype=torch.float64)
    try:
        assert_tensor_close(as_t(actual), as_t(expected), what=what, dtype=torch.float64, rtol=rtol, atol=0.0)
    except CheckFailed as exc:
        raise CheckFailed(f"{exc}{hint()}") from None
    fail(f"{what} has wrong values.{hint()}")  # pragma: no cover - assert_tensor_close agrees with _close


def near_threshold(losses: t.Sequence[float], stop_div: bool = True) -> bool:
    """Does a smoothed loss come within THRESHOLD_MARGIN of 4x the best so far (where it matters)?"""
    if not stop_div:
        return False
    best = math.inf
    for v in losses:
        if math.isnan(v):
            continue
        best = min(best, v)
        if abs(v - 4 * best) <= THRESHOLD_MARGIN * 4 * best:
            return True
    return False


# -- runs of known mistakes ---------------------------------------------------------------------

def lr_find_variant(trainer: t.Any, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100,
                    stop_div: bool = True, beta: float = 0.98, *, bias_correction: bool = True,
                    schedule: str = "exp", stop: str = "after_record", save: str = "first",
                    restore: str = "last", raw: bool = False) -> tuple[list[float], list[float]]:
    """A plain-Python lr_find with one mistake switched on (the defaults are fastai's behaviour).

    ``save``: "first" (before the first batch), "after_first" (after it) or "never";
    ``restore``: "last" (after the last batch), "not_when_early" (skipped when the run stops early)
    or "never".
    """
    num_it = max(num_it, 6)
    lrs: list[float] = []
    losses: list[float] = []
    avg, best = 0.0, math.inf
    if save == "first":
        trainer.save_state()
    for i in range(num_it):
        if schedule == "exp":
            lr = start_lr * (end_lr / start_lr) ** (i / num_it)
        elif schedule == "lin":
            lr = start_lr + (end_lr - start_lr) * i / num_it
        else:  # "n_minus_1"
            lr = start_lr * (end_lr / start_lr) ** (i / (num_it - 1))
        loss = float(trainer.train_step(lr))
        if save == "after_first" and i == 0:
            trainer.save_state()
        avg = beta * avg + (1 - beta) * loss
        smooth = loss if raw else (avg / (1 - beta ** (i + 1)) if bias_correction else avg)
        if stop == "before_record" and stop_div and smooth > 4 * min(best, smooth):
            break
        lrs.append(lr)
        losses.append(smooth)
        best = min(best, smooth) if not math.isnan(smooth) else best
        if stop == "after_record" and stop_div and smooth > 4 * best:
            if restore == "not_when_early":
                return lrs, losses
            break
    if restore != "never":
        trainer.restore_state()
    return lrs, losses


LR_FIND_MISTAKES = {
    "the smoothed loss is not bias-corrected (divide the moving average by 1 - beta**k)":
        dict(bias_correction=False),
    "the raw losses are recorded instead of the smoothed ones": dict(raw=True),
    "the learning rate grows linearly; it must grow exponentially (start * (end/start) ** (i/num_it))":
        dict(schedule="lin"),
    "batch i is put at i / (num_it - 1) instead of i / num_it": dict(schedule="n_minus_1"),
    "the run does not stop when the smoothed loss exceeds 4x the best one": dict(stop="never"),
    "the run stops before recording the batch that diverged (fastai records it, then stops)":
        dict(stop="before_record"),
}

#: Mistakes in the order of save_state/train_step/restore_state; they show in a second run.
ORDER_MISTAKES = {
    "save_state() is called after the first train_step (that batch has already changed the model)":
        dict(save="after_first"),
    "restore_state() is skipped when the run stops early": dict(restore="not_when_early"),
    "restore_state() is never called": dict(restore="never"),
    "save_state() is never called, so restore_state() has nothing to go back to": dict(save="never"),
}


def mistake_runs(script: str, script_seed: int, options: dict[str, t.Any], runs: int = 1,
                 mistakes: t.Mapping[str, dict[str, t.Any]] = LR_FIND_MISTAKES,
                 ) -> dict[str, t.Callable[[], dict[str, t.Any]]]:
    """``{description: () -> the scenario's result}`` for each known mistake, run here.

    Each run is what ``run_lr_find`` returns for a plain-Python lr_find with that one mistake, on
    the same loss script (``runs`` runs on one trainer).
    """
    def run(variant: dict[str, t.Any]) -> dict[str, t.Any]:
        trainer = scenarios().ScriptedTrainer(script, script_seed, options.get("start_lr", 1e-7),
                                              options.get("end_lr", 10.0))
        results = [lr_find_variant(trainer, **options, **variant) for _ in range(runs)]
        return {"result": results[0], "results": results, "calls": trainer.calls}
    return {k: (lambda v=v: run(v)) for k, v in mistakes.items()}
