"""Hidden checks for `one_cycle`: every value against fastai.callback.schedule (rtol 1e-5).

Phase fractions are multiples of 1/64 (exact in fastai's float32 boundaries), positions include
0, 1, the boundaries themselves and points just below and above them.
"""

import math
import random

import pytest

from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, fail, quietly
from reference.one_cycle.reference import (_type_name, check_numbers, combined, combined_cos, combined_cos_mistakes,
                                           one_cycle, one_cycle_mistakes, sched)

EPS = 1e-6


def _positions(rng, boundaries=()):
    pos = [0.0, EPS, 0.5, 1.0 - EPS, 1.0] + [rng.random() for _ in range(6)]
    for b in boundaries:
        pos += [b - EPS, b, b + EPS]
    return sorted(p for p in set(pos) if 0.0 <= p <= 1.0)


def _fmt(values):
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def _check_sched(student, kind, start, end, positions, hints=None):
    __tracebackhide__ = True
    got = [getattr(student, f"sched_{kind}")(start, end, p) for p in positions]
    for g in got:
        if type(g) not in (float, int):
            check_numbers(g, [0.0], what=f"sched_{kind}({start}, {end}, pos)", single=True)
    want = [sched(kind, start, end, p) for p in positions]
    check_numbers(got, want, what=f"sched_{kind}({start:.6g}, {end:.6g}, pos) at pos = {_fmt(positions)}",
                  scale=max(abs(start), abs(end)), hints=hints)


@pytest.mark.points(2)
@pytest.mark.parametrize("start,end", [(0.1, 2.5), (3.0, -1.0), (1e-3, 1e-7)])
def test_sched_lin_no_exp(student, start, end):
    """`sched_lin`, `sched_no` and `sched_exp` at 0, 1 and in between, rising and falling."""
    rng = random.Random(fresh_seed())
    positions = _positions(rng)
    _check_sched(student, "lin", start, end, positions)
    _check_sched(student, "no", start, end, positions)
    if start > 0 and end > 0:
        for a, b in ((start, end), (end, start)):
            hint = {"the exponent is applied to start only (operator precedence: start * end / start ** pos)":
                    [a * b / a ** p for p in positions]}
            _check_sched(student, "exp", a, b, positions, hints=hint)


@pytest.mark.points(3)
@pytest.mark.parametrize("start,end", [(1.0, 2.0), (0.95, 0.85), (4e-3, 4e-8)])
def test_sched_cos(student, start, end):
    """`sched_cos` is fastai's cosine (flat at both ends), not linear, and runs from start to end."""
    rng = random.Random(fresh_seed())
    positions = _positions(rng) + [0.25, 0.75]
    positions.sort()
    hints = {"sched_cos is linear, not a cosine": [start + p * (end - start) for p in positions],
             "the cosine runs backwards (it starts at end): use cos(pi * (1 - pos))":
                 [start + (1 + math.cos(math.pi * p)) * (end - start) / 2 for p in positions]}
    _check_sched(student, "cos", start, end, positions, hints=hints)


def _pcts(rng, n):
    """n fractions, multiples of 1/64 (exact in float32), each >= 8/64, adding up to 1 exactly.

    Phases no shorter than 1/8 keep fastai's float32 rounding of the position inside a phase
    (about 1e-7 / phase length) well below the tolerance.
    """
    cuts = sorted(rng.sample(range(8, 57), n - 1)) if n > 1 else []
    while any(b - a < 8 for a, b in zip([0] + cuts, cuts + [64])):
        cuts = sorted(rng.sample(range(8, 57), n - 1))
    edges = [0] + cuts + [64]
    return [(b - a) / 64 for a, b in zip(edges, edges[1:])]


@pytest.mark.points(3)
@pytest.mark.parametrize("n_phases", [2, 3, 4])
def test_combine_scheds(student, n_phases):
    """`combine_scheds` runs each schedule over its own fraction of training, position reset to 0..1 in each."""
    rng = random.Random(fresh_seed())
    pcts = _pcts(rng, n_phases)
    # continuous at the boundaries? no: every phase has its own start and end, so a wrong phase shows
    phases = [(round(rng.uniform(-2, 2), 3), round(rng.uniform(-2, 2), 3), rng.choice([1, 2, 3]))
              for _ in range(n_phases)]
    bounds = [sum(pcts[:k]) for k in range(1, n_phases)]
    positions = [p for p in _positions(rng, bounds) if all(abs(p - b) > EPS / 2 for b in bounds)]
    positions += [b + d for b in bounds for d in (-0.01, 0.01)]
    positions.sort()
    got = student.scenario("combine_values", pcts=pcts, phases=phases, positions=positions)
    want = combined(pcts, phases, positions)
    check_numbers(got, want, what=f"combine_scheds({pcts}, phases f(pos) = start + (end-start)*pos**power with "
                  f"(start, end, power) = {phases}) at pos = {_fmt(positions)}",
                  scale=max(max(abs(a), abs(b)) for a, b, _ in phases))


@pytest.mark.points(2)
def test_combine_scheds_boundaries(student):
    """At a phase boundary the later phase starts (at its position 0); pos 1 ends the last phase."""
    pcts = [0.25, 0.375, 0.375]
    phases = [(1.0, 2.0, 1), (5.0, 3.0, 2), (-1.0, 0.5, 1)]
    positions = [0.0, 0.25, 0.625, 1.0]
    got = student.scenario("combine_values", pcts=pcts, phases=phases, positions=positions)
    want = combined(pcts, phases, positions)
    check_numbers(got, want, what=f"combine_scheds({pcts}, phases (start, end, power) = {phases}) at the "
                  f"boundaries pos = {positions} (phases that do not join up)",
                  scale=5.0, hints={"a boundary position is given to the earlier phase (at its position 1); "
                                    "fastai starts the later phase there": [1.0, 2.0, 3.0, 0.5]})


@pytest.mark.points(3)
@pytest.mark.parametrize("case", ["lr", "mom", "random"])
def test_combined_cos(student, case):
    """`combined_cos(pct, start, middle, end)` returns a function of pos: two cosine phases."""
    rng = random.Random(fresh_seed())
    if case == "lr":
        pct, start, middle, end = 0.25, 4e-4, 1e-2, 1e-7
    elif case == "mom":
        pct, start, middle, end = 0.3, 0.95, 0.85, 0.95
    else:
        pct = rng.randint(6, 58) / 64
        start, middle, end = (round(rng.uniform(-3, 3), 4) for _ in range(3))
    positions = _positions(rng, [pct]) + [pct / 2, pct + (1 - pct) / 4]
    positions.sort()
    f = student.combined_cos(pct, start, middle, end)
    got = [f(p) for p in positions]
    check_numbers(got, combined_cos(pct, start, middle, end, positions),
                  what=f"combined_cos({pct}, {start}, {middle}, {end})(pos) at pos = {_fmt(positions)}",
                  scale=max(abs(start), abs(middle), abs(end)),
                  hints=combined_cos_mistakes(pct, start, middle, end, positions))


def _check_one_cycle(student, n_iter, lr_max, **options):
    __tracebackhide__ = True
    call = f"one_cycle_schedule({n_iter}, {lr_max:.3g}" + "".join(f", {k}={v}" for k, v in options.items()) + ")"
    result = student.one_cycle_schedule(n_iter, lr_max, **options)
    if type(result) not in (tuple, list) or len(result) != 2:
        fail(f"{call} returned a {_type_name(result)}, but a pair (lrs, moms) is expected.")
    lrs, moms = one_cycle(n_iter, lr_max, **options)
    # with three batches or fewer, several mistakes give the same numbers: name none of them
    wrong = one_cycle_mistakes(n_iter, lr_max, **options) if n_iter > 3 else {"lrs": {}, "moms": {}}
    check_numbers(result[0], lrs, what=f"the learning rates of {call}", hints=wrong["lrs"])
    check_numbers(result[1], moms, what=f"the momenta of {call}", hints=wrong["moms"])


@pytest.mark.points(3)
@pytest.mark.parametrize("n_iter", [12, 100, 257])
def test_one_cycle_defaults(student, n_iter):
    """`one_cycle_schedule` with fastai's defaults: warm-up, annealing to lr_max/div_final, batch i at i/n_iter."""
    rng = random.Random(fresh_seed())
    _check_one_cycle(student, n_iter, round(10 ** rng.uniform(-4, -1), 6))


@pytest.mark.points(3)
@pytest.mark.parametrize("options", [dict(div=10.0, div_final=1e4, pct_start=0.5),
                                     dict(pct_start=0.125, moms=(0.9, 0.8, 0.99)),
                                     dict(div=5.0, pct_start=0.375, div_final=100.0, moms=(0.95, 0.8, 0.9))])
def test_one_cycle_options(student, options):
    """`one_cycle_schedule` uses div, div_final, pct_start and moms as fit_one_cycle does."""
    rng = random.Random(fresh_seed())
    _check_one_cycle(student, rng.randint(20, 120), round(10 ** rng.uniform(-4, 0), 6), **options)


@pytest.mark.points(2)
def test_one_cycle_momentum(student):
    """The momentum goes down while the learning rate goes up (0.95 -> 0.85 -> 0.95 by default)."""
    n_iter = random.Random(fresh_seed()).randint(30, 60)
    result = student.one_cycle_schedule(n_iter, 1e-3)
    _, moms = one_cycle(n_iter, 1e-3)
    what = f"the momenta of one_cycle_schedule({n_iter}, 1e-3)"
    if type(result) not in (tuple, list) or len(result) != 2:
        fail(f"one_cycle_schedule({n_iter}, 1e-3) returned a {_type_name(result)}, but a pair (lrs, moms) is expected.")
    check_numbers(result[1], moms, what=what, hints=one_cycle_mistakes(n_iter, 1e-3)["moms"])


@pytest.mark.points(1)
def test_one_cycle_short(student):
    """A run of one and of two batches (batch i at pos i/n_iter, so the first is at pos 0)."""
    for n in (1, 2, 3):
        _check_one_cycle(student, n, 0.01)


FORBIDDEN_MODULES = ["fastai", "fasttransform"]


@pytest.mark.points(2)
def test_short_cycle_end_to_end(student):
    """A 30-batch one-cycle schedule and a two-phase combined_cos, end to end."""
    _check_one_cycle(student, 30, 3e-3)
    f = student.combined_cos(0.25, 1.0, 2.0, 0.0)
    check_numbers([f(0.1), f(0.6)], combined_cos(0.25, 1.0, 2.0, 0.0, [0.1, 0.6]),
                  what="combined_cos(0.25, 1.0, 2.0, 0.0)(pos) at pos = [0.1, 0.6]", scale=2.0)



@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, student_sources):
    """No fastai: the schedules are your own, not fastai.callback.schedule's, not even indirectly (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking
    it voids all points of the exercise (a function that forwards to fastai passes every value
    check). The verdict comes from the source scan of every file of the submission; the worker's
    record of imported modules is extra evidence only (every function runs first, so that it sees
    what they import when called).
    """
    calls = [lambda: student.sched_lin(1.0, 2.0, 0.5), lambda: student.sched_cos(1.0, 2.0, 0.5),
             lambda: student.sched_no(1.0, 2.0, 0.5), lambda: student.sched_exp(1.0, 2.0, 0.5),
             lambda: student.scenario("combine_values", pcts=[0.5, 0.5], phases=[(1.0, 2.0, 1), (2.0, 0.0, 2)],
                                      positions=[0.25, 0.75]),
             lambda: student.combined_cos(0.25, 1.0, 2.0, 0.0)(0.5),
             lambda: student.one_cycle_schedule(10, 1e-3)]
    for call in calls:
        quietly(call, errors=(Exception,))  # any error: combined_cos may return something not callable
    assert_from_scratch(set(), student_sources, forbidden_names=[], forbidden_modules=FORBIDDEN_MODULES,
                        modules_seen=student.imported_modules(), what="one_cycle")
