"""Public checks for `one_cycle`: run them with `grade check one_cycle`.

They compare your functions with fastai's (``fastai.callback.schedule``) at a few positions,
within a relative tolerance of 1e-5 (plus 1e-5 times the schedule's largest value, because fastai
keeps its phase boundaries in float32).
"""

import warnings

import pytest
import torch

from grader.testing import assert_tensor_close, fail

# fastai is imported when the checks are collected (it takes seconds): meanwhile the worker that
# runs your code is starting, so the two waits overlap.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import fastai.callback.schedule as _schedule

RTOL = 1e-5


def _fastai():
    return _schedule


def _compare(got, want, what, scale):
    if type(got) not in (list, tuple):
        fail(f"{what} must be a list of Python floats, not a {type(got).__name__}.")
    for v in got:
        if type(v) not in (float, int):
            fail(f"{what} must be Python floats, not {type(v).__name__} (e.g. use float(x)).")
    if len(got) != len(want):
        fail(f"{what} returned {len(got)} values, but {len(want)} are expected.")
    assert_tensor_close(torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64),
                        what=what, dtype=torch.float64, rtol=RTOL, atol=RTOL * scale)


POSITIONS = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]


@pytest.mark.points(1)
@pytest.mark.parametrize("kind", ["lin", "cos", "no", "exp"])
def test_annealing_functions(student, kind):
    """sched_lin / sched_cos / sched_no / sched_exp from 0.5 to 2.0 at a few positions."""
    got = [getattr(student, f"sched_{kind}")(0.5, 2.0, p) for p in POSITIONS]
    want = [getattr(_fastai(), f"sched_{kind}")(0.5, 2.0, p) for p in POSITIONS]
    _compare(got, want, f"sched_{kind}(0.5, 2.0, pos) at pos = {POSITIONS}", 2.0)


@pytest.mark.points(1)
def test_combined_cos(student):
    """combined_cos(0.25, 1.0, 2.0, 0.0) returns a function of pos (two cosine phases)."""
    f = student.combined_cos(0.25, 1.0, 2.0, 0.0)
    positions = [0.0, 0.125, 0.25, 0.5, 0.75, 1.0]
    got = [f(p) for p in positions]
    ref = _fastai().combined_cos(0.25, 1.0, 2.0, 0.0)
    _compare(got, [float(ref(p)) for p in positions], f"combined_cos(0.25, 1.0, 2.0, 0.0)(pos) at pos = {positions}",
             2.0)


@pytest.mark.points(2)
def test_one_cycle_schedule(student):
    """one_cycle_schedule(10, 1e-2): learning rates and momenta of fit_one_cycle's 10 batches."""
    result = student.one_cycle_schedule(10, 1e-2)
    if type(result) not in (tuple, list) or len(result) != 2:
        fail("one_cycle_schedule(10, 1e-2) must return a pair (lrs, moms) of lists.")
    s = _fastai()
    lr, mom = s.combined_cos(0.25, 1e-2 / 25, 1e-2, 1e-2 / 1e5), s.combined_cos(0.25, 0.95, 0.85, 0.95)
    pos = [i / 10 for i in range(10)]
    _compare(result[0], [float(lr(p)) for p in pos], "the learning rates of one_cycle_schedule(10, 1e-2)", 1e-2)
    _compare(result[1], [float(mom(p)) for p in pos], "the momenta of one_cycle_schedule(10, 1e-2)", 0.95)
