"""Public checks for `lr_find`: run them with `grade check lr_find`.

They run your `lr_find` on scripted loss sequences (``scenarios.py``: a trainer whose loss is a
made-up function of the learning rate) and check the schedule, the smoothing (against fastai's
``AvgSmoothLoss``) and the save/restore order. The last check draws the plot a fastai user knows
from your results: ``grade-output/lr_find/lr_find.png``.
"""

import math
import warnings

import pytest
import torch

from grader.testing import assert_tensor_close, fail

# fastai is imported when the checks are collected (it takes seconds): meanwhile the worker that
# runs your code is starting, so the two waits overlap. (The hidden checks use more of fastai.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import fastai.callback.schedule  # noqa: F401
    from fastai.learner import AvgSmoothLoss

RTOL = 1e-5


def _floats(value, what):
    if isinstance(value, torch.Tensor):
        return [float(v) for v in value.detach().cpu().double().reshape(-1)]
    if type(value) not in (list, tuple) or any(type(v) not in (float, int) for v in value):
        fail(f"{what} must be a list of Python floats.")
    return [float(v) for v in value]


def _run(student, script, script_seed, **options):
    got = student.scenario("run_lr_find", seed=script_seed, script=script, script_seed=script_seed, **options)
    call = f"lr_find(trainer{', ' if options else ''}{', '.join(f'{k}={v}' for k, v in options.items())})"
    result = got["result"]
    if type(result) not in (list, tuple) or len(result) != 2:
        fail(f"{call} must return a pair (lrs, losses).")
    lrs, losses = _floats(result[0], f"the lrs of {call}"), _floats(result[1], f"the losses of {call}")
    if len(lrs) != len(losses):
        fail(f"{call} returned {len(lrs)} learning rates but {len(losses)} losses.")
    return call, lrs, losses, got["calls"]


def _close(got, want, what):
    if len(got) != len(want):
        fail(f"{what}: {len(got)} values, but {len(want)} are expected.")
    assert_tensor_close(torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64), what=what,
                        dtype=torch.float64, rtol=RTOL, atol=0.0)


@pytest.mark.points(2)
def test_learning_rates(student):
    """A falling loss, num_it=20: 20 batches, batch i at start_lr*(end_lr/start_lr)**(i/num_it)."""
    call, lrs, losses, calls = _run(student, "falling", 11, num_it=20)
    want = [1e-7 * (10 / 1e-7) ** (i / 20) for i in range(20)]
    steps = [c[1] for c in calls if c[0] == "step"]
    _close(steps, want, f"the learning rates {call} passed to train_step")
    _close(lrs, want, f"the lrs returned by {call}")


@pytest.mark.points(2)
def test_smoothed_losses(student):
    """A noisy loss, num_it=30: the losses are fastai's smoothed losses (AvgSmoothLoss, beta=0.98)."""
    call, lrs, losses, calls = _run(student, "noisy", 12, num_it=30)
    smoother, want = AvgSmoothLoss(beta=0.98), []
    for raw in [c[2] for c in calls if c[0] == "step"]:
        smoother.accumulate(type("Learner", (), {"loss": torch.tensor(raw)})())
        want.append(float(smoother.value))
    _close(losses, want, f"the smoothed losses returned by {call}")


@pytest.mark.points(2)
def test_save_and_restore(student):
    """A loss that diverges: the run stops early; save_state() first, restore_state() last, once each."""
    call, lrs, losses, calls = _run(student, "diverging", 13)
    kinds = [c[0] for c in calls]
    if kinds.count("save") != 1 or kinds[0] != "save":
        fail(f"{call} must call save_state() exactly once, before the first train_step.")
    if kinds.count("restore") != 1 or kinds[-1] != "restore":
        fail(f"{call} must call restore_state() exactly once, after the last train_step (also when it stops early).")
    if len(lrs) >= 100 or len(lrs) != kinds.count("step"):
        fail(f"{call} on a diverging loss must stop early and record every batch it trained "
             f"(it trained {kinds.count('step')} batches and recorded {len(lrs)}).")
    best = min(losses[:-1])
    if not losses[-1] > 4 * best:
        fail(f"{call} stopped, but its last recorded smoothed loss is not above 4x the best one.")


@pytest.mark.points(1)
def test_plot(student, artifacts):
    """The lr_find plot of a realistic run, with the suggestions marked (grade-output/lr_find/lr_find.png)."""
    from grader.scenarios import fresh_seed

    seed = fresh_seed()
    got = student.scenario("lr_find_with_suggestions", seed=seed, script="realistic", script_seed=seed)
    lrs = _floats(got["lrs"], "the lrs of lr_find(trainer)")
    losses = _floats(got["losses"], "the losses of lr_find(trainer)")
    if not lrs or len(lrs) != len(losses) or not all(v > 0 and math.isfinite(v) for v in lrs):
        fail("lr_find(trainer) must return as many learning rates (positive) as losses.")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    shown = slice(None, -5) if len(lrs) > 5 else slice(None)  # fastai's plot_lr_find skips the last 5
    ax.plot(lrs[shown], losses[shown])
    ax.set_xscale("log")
    ax.set_xlabel("Learning Rate")
    ax.set_ylabel("Loss")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"][1:]
    for (name, value), color in zip(got["suggestions"].items(), colors):
        if type(value) not in (float, int) or not value > 0:
            continue
        marked = value * 10 if name == "minimum" else value  # fastai marks the minimum itself, suggests a tenth
        near = min(range(len(lrs)), key=lambda i: abs(math.log(lrs[i]) - math.log(marked)))
        ax.plot(marked, losses[near], "o", c=color, label=f"{name}: {value:.2e}")
    if got["suggestions"]:
        ax.legend(loc="best")
    ax.set_title("lr_find")
    fig.subplots_adjust(left=0.13, right=0.97, top=0.92, bottom=0.13)  # fixed margins: tight_layout costs 0.2 s a student
    path = artifacts.path("lr_find.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    if not path.is_file() or path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"the plot could not be written to {path}.")
