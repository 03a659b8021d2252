"""Public checks for `callbacks`: run them with `grade check callbacks`.

They run the public scenarios in ``scenarios.py`` on your Learner and compare the events your
callbacks saw with the order fastai's Learner uses (listed in the exercise's docstring).
"""

import pytest

from grader.testing import fail

ONE_BATCH_TRAIN = ["before_batch", "after_pred", "after_loss", "before_backward", "after_backward", "before_step",
                   "after_step", "after_batch"]
ONE_BATCH_VALID = ["before_batch", "after_pred", "after_loss", "after_batch"]
ONE_EPOCH = (["after_create", "before_fit", "before_epoch", "before_train", *ONE_BATCH_TRAIN, "after_train",
              "before_validate", *ONE_BATCH_VALID, "after_validate", "after_epoch", "after_fit"])


def events_of(result, tag="A"):
    if not isinstance(result, dict) or not isinstance(result.get("trace"), list):
        fail("The scenario did not return a trace.")
    return [e[1] for e in result["trace"] if isinstance(e, list) and len(e) >= 2 and e[0] == tag]


def first_difference(mine, expected):
    for i, (a, b) in enumerate(zip(mine, expected)):
        if a != b:
            return f"event #{i + 1} is {a}, but it should be {b}"
    return f"you called {len(mine)} events, but there should be {len(expected)}"


@pytest.mark.points(1)
def test_one_epoch_one_batch(student, device):
    """fit(1) with one training and one validation batch calls every event in fastai's order."""
    result = student.scenario("fit_events", seed=1, n_epoch=1, n_train=1, n_valid=1, device=str(device))
    mine = events_of(result)
    if mine != ONE_EPOCH:
        fail(f"fit(1): {first_difference(mine, ONE_EPOCH)}.")


@pytest.mark.points(1)
def test_cancel_batch_still_runs_after_batch(student, device):
    """CancelBatchException in after_pred: after_cancel_batch, then after_batch, then the next batch."""
    result = student.scenario("fit_events", seed=2, n_epoch=1, n_train=2, n_valid=1,
                              cancel=("after_pred", "batch", 1), device=str(device))
    mine = events_of(result)
    expected = (["after_create", "before_fit", "before_epoch", "before_train", "before_batch", "after_pred",
                 "after_cancel_batch", "after_batch", *ONE_BATCH_TRAIN, "after_train", "before_validate",
                 *ONE_BATCH_VALID, "after_validate", "after_epoch", "after_fit"])
    if mine != expected:
        fail(f"Cancel in after_pred: {first_difference(mine, expected)}.")


@pytest.mark.points(1)
def test_validation_in_eval_mode_without_grad(student, device):
    """During validation: learn.training is False, the model is in eval mode, gradients are off."""
    result = student.scenario("fit_events", seed=3, n_epoch=1, n_train=1, n_valid=2, device=str(device))
    inside = False
    for entry in result.get("trace", []) if isinstance(result, dict) else []:
        if entry[0] != "A":
            continue
        inside = entry[1] == "before_validate" or (inside and entry[1] != "after_validate")
        if inside and entry[1] in ("before_backward", "before_step"):
            fail("Validation must not run backward or the optimizer step.")
        if inside and entry[1] == "after_pred" and entry[-3:] != [False, False, False]:
            fail(f"During validation (after_pred): learn.training, model.training, torch.is_grad_enabled() "
                 f"are {entry[-3:]}, but must all be False.")
