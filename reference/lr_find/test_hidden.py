"""Hidden checks for `lr_find`: scripted loss sequences, run against the student's code and fastai's.

Every run uses a fresh seed for its loss script, so no canned answer can match; the same script
runs here against ``implementation.py`` (fastai's LRFinder/Recorder/valley/minimum/steep), and the
two runs are compared step by step: the returned ``(lrs, losses)``, and for the save/restore order
a second run on the same trainer.

Nothing here reads what the worker says about itself. The scripted trainer lives in the worker,
next to the student's code, so its record of calls (``calls``) could be rewritten there; the
checks read only values: the learning rates and smoothed losses returned, which the trusted run of
the same seed reproduces. The loss of a batch depends on the learning rate it was trained with
(a ripple in log(lr)) and on the model's state (``trained``), so training at other learning rates
than recorded, or leaving the model elsewhere than it was, gives other numbers.
"""

import math
import random

import pytest

from grader.scenarios import fresh_seed
from grader.testing import CheckFailed, assert_from_scratch, fail, quietly
from reference.lr_find.reference import (ORDER_MISTAKES, as_floats, as_pair, check_floats, mistake_runs,
                                         near_threshold, type_name)


def _options_text(options):
    return ", ".join(f"{k}={v}" for k, v in options.items())


def run_both(student, reference, script, require=None, runs=1, **options):
    """The reference run on a fresh loss script (redrawn while ambiguous), then the student's on the same.

    ``runs`` > 1: that many lr_find runs one after the other on the same trainer.
    """
    __tracebackhide__ = True
    for _ in range(50):
        seed = fresh_seed()
        ref = reference.scenario("run_lr_find", seed=seed, script=script, script_seed=seed, runs=runs, **options)
        if any(near_threshold(losses, options.get("stop_div", True)) for _, losses in ref["results"]):
            continue
        if require is None or require(ref):
            break
    else:  # pragma: no cover - the scripts are built so that this never happens
        raise RuntimeError(f"no usable {script!r} loss script found")
    got = student.scenario("run_lr_find", seed=seed, script=script, script_seed=seed, runs=runs, **options)
    what = f"lr_find(trainer{', ' if options else ''}{_options_text(options)}) on a {script} loss script"
    return seed, ref, got, what


def _result(got, what, index=0):
    __tracebackhide__ = True
    results = got.get("results") if type(got) is dict else None
    if type(results) not in (list, tuple) or len(results) <= index:
        fail(f"the scenario run_lr_find returned a {type_name(got)}, not its usual dict; "
             "do not change checks/lr_find/scenarios.py.")
    lrs, losses = as_pair(results[index], what)
    return as_floats(lrs, f"the lrs returned by {what}"), as_floats(losses, f"the losses returned by {what}")


def _hint_values(mistakes, part, index=0):
    """hints for check_floats: part 0 = lrs, 1 = losses, of run ``index``."""
    def pick(run_fn):
        def value():
            return list(run_fn()["results"][index][part])
        return value
    return {k: pick(f) for k, f in mistakes.items()}


def _length_message(what, got_lrs, ref_lrs):
    if len(got_lrs) < len(ref_lrs):
        return (f"{what} recorded {len(got_lrs)} batches, but fastai's LRFinder records {len(ref_lrs)} on this "
                "loss script (it stops only after the batch whose smoothed loss exceeds 4x the best, or after "
                "num_it batches).")
    return (f"{what} recorded {len(got_lrs)} batches, but fastai's LRFinder stops after {len(ref_lrs)} on this "
            "loss script.")


def check_run(got, ref, what, mistakes, parts=("lrs", "losses"), index=0):
    """Compare run ``index`` of the student's scenario with the reference's, part by part.

    The smoothed losses also witness the learning rates given to ``train_step``: the scripted loss
    depends on them, so a batch trained at another learning rate than recorded gives other losses.
    """
    __tracebackhide__ = True
    lrs, losses = _result(got, what, index)
    ref_lrs, ref_losses = ref["results"][index]
    checks = {
        "lrs": lambda: check_floats(lrs, ref_lrs, what=f"the lrs returned by {what}",
                                    hints=_hint_values(mistakes, 0, index),
                                    length_message=_length_message(what, lrs, ref_lrs)),
        "losses": lambda: check_floats(losses, ref_losses, what=f"the smoothed losses returned by {what}",
                                       hints=_hint_values(mistakes, 1, index),
                                       length_message=_length_message(what, losses, ref_losses)),
    }
    # a run of another length: the losses name the mistake (the lrs of a shorter run are a prefix of
    # the right ones, whatever made it stop)
    order = ("losses", "lrs") if len(lrs) != len(ref_lrs) else ("lrs", "losses")
    for part in order:
        if part in parts:
            checks[part]()


@pytest.mark.points(3)
@pytest.mark.parametrize("options", [{}, dict(start_lr=1e-5, end_lr=1.0, num_it=60),
                                     dict(start_lr=3e-6, end_lr=30.0, num_it=137)])
def test_learning_rates(student, reference, options):
    """The learning rate grows exponentially: batch i uses start*(end/start)**(i/num_it)."""
    seed, ref, got, what = run_both(student, reference, "falling", **options)
    check_run(got, ref, what, mistake_runs("falling", seed, options), parts=("lrs",))


@pytest.mark.points(3)
@pytest.mark.parametrize("options", [{}, dict(beta=0.9, num_it=80), dict(beta=0.95, start_lr=1e-6, num_it=50)])
def test_smoothed_losses(student, reference, options):
    """The recorded losses are fastai's smoothed losses (moving average with bias correction)."""
    seed, ref, got, what = run_both(student, reference, "noisy", **options)
    check_run(got, ref, what, mistake_runs("noisy", seed, options))


def _stops_early(options):
    num_it = options.get("num_it", 100)
    return lambda ref: all(len(lrs) < num_it - 5 for lrs, _ in ref["results"])


@pytest.mark.points(3)
@pytest.mark.parametrize("options", [{}, dict(num_it=70, beta=0.9)])
def test_stops_on_divergence(student, reference, options):
    """On a diverging script the run stops right after the batch whose smoothed loss exceeds 4x the best."""
    seed, ref, got, what = run_both(student, reference, "diverging", require=_stops_early(options), **options)
    check_run(got, ref, what, mistake_runs("diverging", seed, options))


@pytest.mark.points(2)
def test_no_stop_without_stop_div(student, reference):
    """With stop_div=False the run goes on for num_it batches however large the loss gets."""
    options = dict(stop_div=False, num_it=90)
    seed, ref, got, what = run_both(student, reference, "diverging", **options)
    check_run(got, ref, what, mistake_runs("diverging", seed, options))


@pytest.mark.points(2)
@pytest.mark.parametrize("options", [{}, dict(num_it=120, end_lr=3.0)])
def test_nan_losses(student, reference, options):
    """A NaN loss makes the smoothed loss NaN; that does not stop the run (as in fastai)."""
    has_nan = lambda ref: any(math.isnan(v) for v in ref["result"][1])
    seed, ref, got, what = run_both(student, reference, "nan", require=has_nan, **options)
    check_run(got, ref, what, mistake_runs("nan", seed, options))


@pytest.mark.points(3)
@pytest.mark.parametrize("script", ["falling", "diverging"])
def test_save_and_restore(student, reference, script):
    """save_state() before the first train_step, restore_state() after the last (also when stopping early).

    Judged on values, not on the trainer's record of calls (which lives in the worker, next to the
    student's code, and could be rewritten there). The scripted loss depends on the model's state
    (how many batches it has been trained for), which save_state/restore_state save and restore.
    So the scenario runs lr_find twice on the same trainer, and the second run's smoothed losses,
    compared step by step with fastai's LRFinder run twice on the same fresh loss script here, show
    whether the first run put the model back where it started: a save after the first batch, a
    missing restore (always or only when the run stops early) or no save give other numbers.
    """
    require = _stops_early({}) if script == "diverging" else None
    seed, ref, got, what = run_both(student, reference, script, require=require, runs=2)
    early = " (the run stopped early because the loss diverged)" if script == "diverging" else ""
    check_run(got, ref, what + early, mistake_runs(script, seed, {}))  # the first run itself must be right
    again = f"{what}, run a second time on the same trainer"
    try:
        check_run(got, ref, again, mistake_runs(script, seed, {}, runs=2, mistakes=ORDER_MISTAKES), index=1)
    except CheckFailed as exc:
        fail(f"{exc}\nThe first run{early} was right, but it did not leave the model as it found it, so the next "
             "run started elsewhere: call save_state() once before the first train_step and restore_state() once "
             "after the last one, also when the run stops early.")


# -- the suggestions --------------------------------------------------------------------------------

def _window_cases(rng):
    """(lrs, losses, num_it) cases: NaN inside, before, at the start of and after the window; short runs."""
    cases = []
    for num_it, n, nans in [(100, 100, []), (100, 100, range(63, 100)), (100, 83, []), (60, 60, [3]),
                            (60, 60, [6, 7, 30]), (137, 137, [100, 120]), (30, 12, []), (20, 7, []),
                            (100, 100, [96, 97])]:
        lrs = [1e-7 * (1e8) ** (i / num_it) for i in range(n)]
        losses = [2.0 + math.sin(i / 7) + rng.random() for i in range(n)]
        for i in nans:
            losses[i] = math.nan
        cases.append((lrs, losses, num_it))
    return cases


@pytest.mark.points(3)
def test_suggestion_window(student, reference):
    """suggestion_window drops the first num_it//10 and the last 5 points and cuts at the first NaN."""
    rng = random.Random(fresh_seed())
    for lrs, losses, num_it in _window_cases(rng):
        nans = [i for i, v in enumerate(losses) if math.isnan(v)]
        call = (f"suggestion_window(lrs, losses, num_it={num_it}) with {len(lrs)} points"
                + (f", NaN from index {nans[0]}" if nans else ", no NaN"))
        got_lrs, got_losses = as_pair(student.suggestion_window(lrs, losses, num_it), call)
        ref_lrs, ref_losses = reference.suggestion_window(lrs, losses, num_it)
        got_lrs = as_floats(got_lrs, f"the lrs of {call}")
        got_losses = as_floats(got_losses, f"the losses of {call}")
        start = num_it // 10
        hints_lrs = {"the last 5 points are kept": lambda: lrs[start:],
                     "the window is not cut at the first NaN": lambda: lrs[start:-5],
                     "the first num_it // 10 points are kept": lambda: reference.suggestion_window(
                         lrs, losses, 0)[0]}
        check_floats(got_lrs, ref_lrs, what=f"the lrs of {call}", rtol=1e-12, hints=hints_lrs)
        check_floats(got_losses, ref_losses, what=f"the losses of {call}", rtol=1e-12)


_WINDOWS: dict[int, list] = {}


def _suggestion_windows(reference, rng):
    """Windows of reference runs on fresh realistic/noisy scripts, and synthetic curves.

    Drawn once per grading session (fresh seeds) and shared by the three suggestion checks.
    """
    if id(reference) not in _WINDOWS:
        _WINDOWS.clear()
        _WINDOWS[id(reference)] = _draw_windows(reference, rng)
    return _WINDOWS[id(reference)]


def _draw_windows(reference, rng):
    windows = []
    for script, options in [("realistic", {}), ("noisy", dict(num_it=80)), ("diverging", {}),
                            ("nan", {}), ("falling", dict(num_it=60))]:
        seed = fresh_seed()
        run = reference.scenario("run_lr_find", seed=seed, script=script, script_seed=seed, **options)
        lrs, losses = reference.suggestion_window(*run["result"], options.get("num_it", 100))
        if len(lrs) >= 2:
            windows.append((f"the window of an lr_find run on a {script} loss script", lrs, losses))
    for n in (2, 3, 9, 40):  # random walks: several valleys, ties are improbable
        lrs = [1e-6 * 10 ** (6 * i / n) for i in range(n)]
        losses, v = [], 3.0
        for _ in range(n):
            v += rng.gauss(0, 0.3)
            losses.append(v)
        windows.append((f"a random curve of {n} points", lrs, losses))
    # monotonic curves whose slopes differ clearly (equal slopes would leave steep's argmin to rounding)
    lrs = [1e-5 * 1.2 ** i for i in range(12)]
    windows.append(("a rising curve of 12 points", lrs, [1.0 + 0.1 * i + 0.01 * i * i for i in range(12)]))
    windows.append(("a falling curve of 12 points", lrs, [5.0 - 0.4 * i + 0.01 * i * i for i in range(12)]))
    return windows


def _check_suggestion(student, reference, name, hints_for):
    __tracebackhide__ = True
    rng = random.Random(fresh_seed())
    for description, lrs, losses in _suggestion_windows(reference, rng):
        call = f"suggest_{name}(lrs, losses) on {description}"
        got = getattr(student, f"suggest_{name}")(lrs, losses)
        if type(got) not in (float, int):
            fail(f"{call} returned a {type_name(got)}, but a Python float is expected.")
        want = getattr(reference, f"suggest_{name}")(lrs, losses)
        check_floats([float(got)], [want], what=call, rtol=1e-9,
                     hints={k: (lambda f=f: [f(lrs, losses)]) for k, f in hints_for.items()})


def _argmin(values):
    return min(range(len(values)), key=lambda i: values[i])


def _valley_middle(lrs, losses):
    n, lds, max_start, max_end = len(losses), [1] * len(losses), 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
        if lds[max_end] < lds[i]:
            max_end, max_start = i, i - lds[i]
    return lrs[max(0, (max_start + max_end) // 2)]


def _slopes(lrs, losses, log=True):
    f = math.log if log else (lambda v: v)
    return [(losses[k + 1] - losses[k]) / (f(lrs[k + 1]) - f(lrs[k])) for k in range(len(losses) - 1)]


@pytest.mark.points(3)
def test_suggest_valley(student, reference):
    """suggest_valley is fastai's valley (longest decreasing run, then its index formula)."""
    _check_suggestion(student, reference, "valley", {
        "the middle of the longest valley is taken instead of fastai's index formula": _valley_middle,
        "the learning rate at the lowest loss is returned": lambda lrs, losses: lrs[_argmin(losses)]})


@pytest.mark.points(2)
def test_suggest_minimum(student, reference):
    """suggest_minimum is fastai's minimum: the learning rate at the lowest loss, divided by 10."""
    _check_suggestion(student, reference, "minimum", {
        "the learning rate at the lowest loss is not divided by 10": lambda lrs, losses: lrs[_argmin(losses)],
        "the lowest learning rate is divided by 10 instead of the one at the lowest loss":
            lambda lrs, losses: lrs[0] / 10})


@pytest.mark.points(3)
def test_suggest_steep(student, reference):
    """suggest_steep is fastai's steep: the steepest fall of the loss against log(lr)."""
    _check_suggestion(student, reference, "steep", {
        "the slope is taken against lr instead of log(lr)":
            lambda lrs, losses: lrs[_argmin(_slopes(lrs, losses, log=False))],
        "the right point of the steepest segment is returned (fastai: the left one)":
            lambda lrs, losses: lrs[_argmin(_slopes(lrs, losses)) + 1]})


FORBIDDEN_MODULES = ["fastai", "fasttransform"]


@pytest.mark.points(2)
def test_realistic_run(student, reference):
    """A realistic run and the three suggestions on its window equal fastai's (lr_find end to end)."""
    seed, ref, got, what = run_both(student, reference, "realistic")
    check_run(got, ref, what, {})
    lrs, losses = reference.suggestion_window(*ref["result"], 100)
    for name in ("valley", "minimum", "steep"):
        got_value = getattr(student, f"suggest_{name}")(lrs, losses)
        if type(got_value) not in (float, int):
            fail(f"suggest_{name} returned a {type_name(got_value)}, but a Python float is expected.")
        check_floats([float(got_value)], [getattr(reference, f"suggest_{name}")(lrs, losses)],
                     what=f"suggest_{name}(lrs, losses) on the window of a realistic run", rtol=1e-9)



@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, student_sources):
    """No fastai in lr_find or the suggestions (LRFinder, valley, minimum, steep), not even indirectly (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking
    it voids all points of the exercise. The verdict comes from the source scan of every file of
    the submission; the worker's record of imported modules is extra evidence only (the student's
    functions run first, so that it sees what they import when called).
    """
    seed = fresh_seed()
    quietly(lambda: student.scenario("lr_find_with_suggestions", seed=seed, script="realistic", script_seed=seed))
    lrs = [1e-6 * 10 ** (6 * i / 20) for i in range(20)]
    losses = [3.0 - math.sin(i / 6) for i in range(20)]
    for name in ("suggestion_window", "suggest_valley", "suggest_minimum", "suggest_steep"):
        args = (lrs, losses, 20) if name == "suggestion_window" else (lrs, losses)
        quietly(lambda name=name, args=args: getattr(student, name)(*args))
    assert_from_scratch(set(), student_sources, forbidden_names=[], forbidden_modules=FORBIDDEN_MODULES,
                        modules_seen=student.imported_modules(), what="lr_find")
