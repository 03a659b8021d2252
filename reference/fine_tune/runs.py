"""Comparing a recorded fine_tune / fit_one_cycle run with fastai's run of the same seed.

A run is ``{"steps": [{"hypers": [[lr, mom] per group], "trainable": "1011..."}...], "losses": [...],
"state": state_dict}`` (``checks/fine_tune/scenarios.py``). The messages say where the runs part and,
where the difference has the shape of a known mistake, which one; never the expected numbers.
"""

from __future__ import annotations

import math
import typing as t

from grader.testing import assert_tensor_close, fail

#: Relative tolerance for learning rates and momenta: fastai's schedule positions are float32
#: (``combine_scheds`` keeps its phase boundaries in a float32 tensor), and so may the student's
#: be; rounding the hyper-parameters to half precision is a mistake.
HYPER_RTOL = 1e-5


def _steps(run: object, what: str) -> list:
    if not isinstance(run, dict) or not isinstance(run.get("steps"), list):
        fail(f"{what}: the scenario did not return the recorded steps.")
    steps = run["steps"]
    for step in steps:
        if not (isinstance(step, dict) and isinstance(step.get("trainable"), str) and isinstance(step.get("hypers"), list)
                and all(isinstance(h, list) and len(h) == 2 and all(type(v) is float for v in h)
                        for h in step["hypers"])):
            fail(f"{what}: a recorded step is not [[lr, mom] per group] and a trainable mask.")
    return steps


def _close(a: float, b: float, rtol: float = HYPER_RTOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-15)


def _phase(i: int, phases: t.Sequence[int]) -> str:
    total = 0
    for k, n in enumerate(phases):
        total += n
        if i < total:
            return f"training batch {i - (total - n) + 1} of phase {k + 1}" if len(phases) > 1 else f"training batch {i + 1}"
    return f"training batch {i + 1}"


def _ratio_hint(got: list, want: list, phases: t.Sequence[int], lr_mult: float | None) -> str:
    """A known mistake that explains the learning rates, or ''."""
    start = phases[0] if len(phases) > 1 else 0
    later = list(range(start, min(len(got), len(want))))
    if not later:
        return ""
    lrs_got = [[h[0] for h in got[i]["hypers"]] for i in later]
    lrs_want = [[h[0] for h in want[i]["hypers"]] for i in later]
    if all(len(a) == len(b) > 1 and all(_close(x, y, 1e-4) for x, y in zip(a, reversed(b)))
           for a, b in zip(lrs_got, lrs_want)):
        return " It looks like the parameter groups got their learning rates in the wrong order (the body must get the smallest)."
    ratios = [x / y for a, b in zip(lrs_got, lrs_want) for x, y in zip(a, b) if y]
    if ratios and all(_close(r, ratios[0], 1e-4) for r in ratios):
        if _close(ratios[0], 2.0, 1e-4):
            return " It looks like base_lr was not halved before the second phase."
        if lr_mult and _close(ratios[0], lr_mult, 1e-4):
            return " It looks like lr_mult multiplied the rates instead of dividing the body's."
    heads_got = [a[-1] for a in lrs_got]
    heads_want = [b[-1] for b in lrs_want]
    if heads_got and heads_got.index(max(heads_got)) != heads_want.index(max(heads_want)):
        return " It looks like the warm-up ends at the wrong batch (pct_start of the wrong phase)."
    return ""


def assert_same_schedule(got_run: object, want_run: dict, *, what: str, phases: t.Sequence[int] = (),
                         lr_mult: float | None = None, norm_mask: str = "") -> None:
    """Every training batch's learning rate and momentum per group, and the trainable mask, equal fastai's."""
    __tracebackhide__ = True
    got, want = _steps(got_run, what), want_run["steps"]
    if len(got) != len(want):
        fail(f"{what}: your run recorded {len(got)} training batches; fastai's run of the same Learner has a "
             "different number (epochs of each phase?).")
    for i, (a, b) in enumerate(zip(got, want)):
        where = _phase(i, phases)
        if len(a["hypers"]) != len(b["hypers"]):
            fail(f"{what}: at {where} the optimizer has {len(a['hypers'])} parameter groups; fastai's has another "
                 "number (one per list the splitter returns).")
        if a["trainable"] != b["trainable"]:
            hint = ""
            frozen_norm = [k for k, (x, y) in enumerate(zip(a["trainable"], b["trainable"])) if x == "0" and y == "1"]
            if norm_mask and frozen_norm and all(norm_mask[k] == "1" for k in frozen_norm):
                hint = " It looks like the freeze also froze the normalisation layers of the body (train_bn)."
            elif a["trainable"].count("1") < b["trainable"].count("1"):
                hint = " It looks like part of the model stayed frozen that should train (unfreeze?)."
            fail(f"{what}: at {where} other parameters have requires_grad than in fastai's run.{hint}")
        for g, ((lr_a, mom_a), (lr_b, mom_b)) in enumerate(zip(a["hypers"], b["hypers"])):
            if not _close(mom_a, mom_b):
                constant = len({round(s["hypers"][g][1], 12) for s in got}) == 1
                hint = " It looks like the momentum is not scheduled (it should go 0.95 → 0.85 → 0.95)." if constant else ""
                fail(f"{what}: at {where} the momentum of parameter group {g} differs from fastai's run.{hint}")
            if not _close(lr_a, lr_b):
                fail(f"{what}: at {where} the learning rate of parameter group {g} differs from fastai's run."
                     f"{_ratio_hint(got, want, phases, lr_mult)}")


def assert_same_training(got_run: object, want_run: dict, *, what: str) -> None:
    """Every loss (training and validation, in order) and the final weights equal fastai's run."""
    __tracebackhide__ = True
    if not isinstance(got_run, dict) or not isinstance(got_run.get("losses"), list):
        fail(f"{what}: the scenario did not return the recorded losses.")
    got, want = got_run["losses"], want_run["losses"]
    if len(got) != len(want):
        fail(f"{what}: your run computed {len(got)} losses; fastai's run computes another number.")
    for i, (a, b) in enumerate(zip(got, want)):
        if type(a) is not float or not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
            fail(f"{what}: loss number {i + 1} differs from fastai's run with the same model, data and seed. "
                 "Possible causes: the optimizer (Adam's hyper-parameters, weight decay on BatchNorm and "
                 "biases: wd_bn_bias), statistics kept across freeze/unfreeze (clear_state), or the "
                 "schedule.")
    state = got_run.get("state")
    if not isinstance(state, dict) or sorted(state) != sorted(want_run["state"]):
        fail(f"{what}: the model's state_dict after training has other entries than expected.")
    for key, value in want_run["state"].items():
        assert_tensor_close(state[key], value, what=f"{what}: the trained {key}", rtol=1e-6, atol=1e-9)
