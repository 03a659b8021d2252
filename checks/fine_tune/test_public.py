"""Public checks for `fine_tune`: run them with `grade check fine_tune`.

They run the public scenarios in ``scenarios.py`` on your package and check what fastai's
``fine_tune`` is known to do: the learning rates per group, the frozen parameters, the momentum.
The hidden checks compare every batch with fastai's own run.
"""

import math

import pytest

from grader.testing import fail


def close(a, b, rtol=1e-9):
    return isinstance(a, float) and math.isclose(a, b, rel_tol=rtol)


@pytest.mark.points(1)
def test_lr_range_examples(student, dependencies):
    """lr_range: slice(1e-5, 1e-3) over 3 groups, slice(1e-3) over 3 groups, a number over 2."""
    with dependencies.blamed():
        got = student.scenario("lr_ranges", seed=0, cases=[["slice", 1e-5, 1e-3, 3], ["slice", None, 1e-3, 3],
                                                           ["number", 0.1, None, 2]])
        expected = [[1e-5, 1e-4, 1e-3], [1e-4, 1e-4, 1e-3], [0.1, 0.1]]
        names = ["lr_range(slice(1e-5, 1e-3), 3)", "lr_range(slice(1e-3), 3)", "lr_range(0.1, 2)"]
        for name, values, want in zip(names, got if isinstance(got, list) else [None] * 3, expected):
            if not isinstance(values, list) or len(values) != len(want) or not all(map(close, values, want)):
                fail(f"{name} should be {want}.")


@pytest.mark.points(1)
def test_freeze_keeps_batchnorm_training(student, device, dependencies):
    """After freeze(): the body's convolutions are frozen, its BatchNorm layers and the head train."""
    with dependencies.blamed():
        masks = student.scenario("freeze_flags", seed=1, groups=2, calls=["freeze", "unfreeze"], device=str(device))
        # the scenario's model: body conv(w, b), bn(w, b), conv(w, b), bn(w, b); head bn, linear, layernorm, linear
        frozen = "00110011" + "1" * 8
        if not isinstance(masks, list) or masks[:2] != [frozen, "1" * 16]:
            fail(f"requires_grad after freeze() should be {frozen} (model.parameters() order), "
                 f"after unfreeze() all 1; yours: {masks}.")


@pytest.mark.points(1)
def test_fine_tune_learning_rates(student, device, dependencies):
    """fine_tune(learn, 1, base_lr=1e-2): the head's rate peaks near 1e-2, then near 5e-3; the body gets 1/100."""
    with dependencies.blamed():
        run = student.scenario("fine_tune_run", seed=2, epochs=1, base_lr=1e-2, n_train=4, device=str(device))
        steps = run.get("steps") if isinstance(run, dict) else None
        if not isinstance(steps, list) or len(steps) != 8:
            fail("fine_tune(learn, 1) with 4 batches per epoch should train 8 batches (4 frozen, 4 unfrozen).")
        head = [s["hypers"][-1][0] for s in steps]
        body = [s["hypers"][0][0] for s in steps]
        if not 0.5e-2 < max(head[:4]) <= 1e-2:
            fail("In the frozen phase the head's learning rate should warm up towards base_lr (pct_start=0.99).")
        if not 0.8 * 5e-3 < max(head[4:]) <= 5e-3 * (1 + 1e-9):
            fail("In the second phase the head's learning rate should peak at base_lr / 2 "
                 "(pct_start=0.3, so at the second of 4 batches).")
        if not all(close(b, h / 100, 1e-6) for b, h in zip(body[4:], head[4:])):
            fail("In the second phase the body's learning rate should be the head's / lr_mult (slice(lr/100, lr)).")
        moms = [s["hypers"][-1][1] for s in steps]
        if not (close(moms[0], 0.95) and min(moms[4:]) < 0.95 - 1e-3):
            fail("The momentum should start each phase at 0.95 and go down while the learning rate goes up.")
