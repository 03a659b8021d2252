"""Hidden checks for `callbacks`: the student's Learner against fastai's own, event by event.

Every check runs the same public scenario (``checks/callbacks/scenarios.py``) twice with a seed
drawn now: in the sandbox with the student's package, and here with fastai's ``Learner``
(``implementation.py``). The seed decides the data, the model and so every recorded loss, so a
canned trace cannot match. The from-scratch gate reads the student's source here (fastai cannot be
imported in the sandbox at all); the worker's record of imported modules is extra evidence only.
"""

import math

import pytest

from grader.sandbox import WorkerError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from reference.learner.lineage import assert_all, assert_built_from_scratch
from reference.callbacks.trace import assert_same_events, assert_same_modes, assert_same_state, assert_same_values

#: (event the first recorder raises in, bracket whose exception it raises, occurrence of the event)
CANCELS = {
    "batch in after_pred": ("after_pred", "batch", 2),
    "batch in validation": ("after_loss", "batch", 4),
    "train in before_batch": ("before_batch", "train", 2),
    "train in before_train": ("before_train", "train", 1),
    "validate in after_pred": ("after_pred", "validate", 4),
    "epoch in before_validate": ("before_validate", "epoch", 1),
    "fit in after_step": ("after_step", "fit", 2),
    "fit in before_fit": ("before_fit", "fit", 1),
    "step in before_step": ("before_step", "step", 1),
    "backward in before_backward": ("before_backward", "backward", 2),
}


def run_both(student, reference, *, vary_sizes=True, **options):
    """The scenario with a fresh seed, in the sandbox and with fastai; sizes drawn from the seed too.

    Drawing the number of epochs and batches as well means a canned trace has the wrong length.
    """
    seed = fresh_seed()
    if vary_sizes:
        options = {"n_epoch": 1 + seed % 3, "n_train": 2 + (seed // 3) % 3, "n_valid": 1 + (seed // 9) % 3,
                   **options}
    else:
        options = {"n_epoch": 2 + seed % 2, **options}
    return (student.scenario("fit_events", seed=seed, **options),
            reference.scenario("fit_events", seed=seed, **options))


@pytest.mark.points(2)
def test_normal_fit_events(student, reference, device):
    """A normal fit (1-3 epochs, 2-4 training and 1-3 validation batches): every event, in fastai's order."""
    got, want = run_both(student, reference, device=str(device))
    assert_same_events(got["trace"], want["trace"], what="fit")
    if got["error"] is not None:
        fail(f"fit raised {got['error']}.")


@pytest.mark.points(2)
def test_training_and_validation_modes(student, reference, device):
    """Training in train mode; validation in eval mode, under no_grad, without backward or step."""
    got, want = run_both(student, reference, device=str(device))
    assert_same_modes(got["trace"], want["trace"], what="fit")


@pytest.mark.points(2)
def test_training_matches_fastai(student, reference, device):
    """Losses, gradients and weights along the way, and the final weights, equal fastai's run."""
    got, want = run_both(student, reference, device=str(device))
    if got["opt_calls"] != want["opt_calls"]:
        fail("fit must create the optimizer once, as opt_func(the model's parameters, lr).")
    assert_same_values(got["values"], want["values"], what="fit")
    assert_same_state(got["state"], want["state"], what="fit")


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(CANCELS))
def test_cancel(student, reference, device, case):
    """A callback cancels part of the loop: after_cancel_<x>, then after_<x>, then on as fastai does."""
    got, want = run_both(student, reference, cancel=CANCELS[case], vary_sizes=False, device=str(device))
    event, bracket, occurrence = CANCELS[case]
    what = f"Cancel{bracket.capitalize()}Exception raised in {event} (call {occurrence})"
    if got["error"] is not None:
        fail(f"{what}: fit raised {got['error']}; a cancel exception must be caught by its bracket.")
    assert_same_modes(got["trace"], want["trace"], what=what)
    assert_same_values(got["values"], want["values"], what=what)


@pytest.mark.points(1)
@pytest.mark.parametrize("orders", [(1, 2), (7, -3), (4, 4)])
def test_callback_order(student, reference, device, orders):
    """Callbacks are called sorted by `order`; equal orders keep the order they were given in."""
    got, want = run_both(student, reference, orders=orders, device=str(device))
    assert_same_events(got["trace"], want["trace"], what=f"two callbacks with order {orders[0]} (A) and "
                                                       f"{orders[1]} (B), given as [A, B]")


@pytest.mark.points(1)
@pytest.mark.parametrize("error_at", [("after_batch", 2), ("before_validate", 1)])
def test_other_exceptions_propagate(student, reference, device, error_at):
    """An exception that is not a cancel leaves fit at once, without any after_* event."""
    got, want = run_both(student, reference, error_at=error_at, vary_sizes=False, device=str(device))
    what = f"a ValueError raised by a callback in {error_at[0]}"
    if got["error"] != want["error"]:
        fail(f"{what}: fit {'raised ' + str(got['error']) if got['error'] else 'returned normally'}, "
             "but the ValueError must come out of fit unchanged.")
    assert_same_events(got["trace"], want["trace"], what=what)


#: What ``learner_names`` records at each after_loss, in this order (the names a callback reads).
STEP_NAMES = ("epoch", "iter", "n_iter", "training", "n_epoch", "lr", "loss", "pred")


@pytest.mark.points(1)
def test_learner_exposes_fastai_names(student, reference, device):
    """At after_loss the Learner has fastai's names: model, dls, loss_func, opt, lr, n_epoch, epoch, ..."""
    seed = fresh_seed()
    options = {"n_epoch": 1 + seed % 2, "n_train": 2 + (seed // 2) % 2, "n_valid": 1 + (seed // 4) % 2}
    got = student.scenario("learner_names", seed=seed, device=str(device), **options)
    want = reference.scenario("learner_names", seed=seed, device=str(device), **options)
    if not isinstance(got, dict) or got.get("missing"):
        missing = got.get("missing") if isinstance(got, dict) else "?"
        fail(f"At after_loss the Learner lacks these attributes: {missing}.")
    for key in ("model_is_model", "dls_is_dls", "opt_has_step", "opt_has_zero_grad"):
        if got.get(key) != want[key]:
            fail(f"At the first after_loss the Learner's {key.replace('_is_', ' is the given ')} "
                 "is not what fastai's holds there.")
    # What the names hold at every batch, compared step by step with fastai's run of the same fresh seed:
    # the losses and predictions depend on the data, the weights and every step before.
    steps, expected = got.get("steps"), want["steps"]
    fit = f"fit({options['n_epoch']})"
    if not isinstance(steps, list) or len(steps) != len(expected):
        fail(f"During {fit} the callback saw after_loss {len(steps) if isinstance(steps, list) else 'no'} times; "
             f"fastai's Learner calls it {len(expected)} times (once per training and validation batch).")
    for k, (mine, theirs) in enumerate(zip(steps, expected)):
        if not isinstance(mine, list) or len(mine) != len(theirs):
            fail(f"At after_loss number {k + 1} of {fit} the recorded names are incomplete.")
        for name, a, b in zip(STEP_NAMES[:6], mine, theirs):
            if type(a) is not type(b) or (a != b if name != "lr" else not math.isclose(a, b, rel_tol=1e-9)):
                fail(f"At after_loss number {k + 1} of {fit} the Learner's {name} is not what fastai's holds there.")
        assert_same_values([["loss", mine[6]]], [["loss", theirs[6]]], what=f"learn.loss at after_loss number {k + 1}")
        assert_tensor_close(mine[7], theirs[7], what=f"learn.pred at after_loss number {k + 1}", rtol=1e-5, atol=1e-5)


#: What the source may not reach, by any name (reference/learner/lineage.py).
BUILT_FROM_SCRATCH = dict(
    package="callbacks", classes=["Learner", "Callback", "CancelBatchException", "CancelTrainException",
                                  "CancelValidException", "CancelEpochException", "CancelFitException",
                                  "CancelStepException", "CancelBackwardException"],
    forbidden_modules=["fastai", "fastcore"])


@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, student_sources, device):
    """No fastai: not imported, not subclassed, not wrapped, not reached indirectly (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking it
    voids all points of the exercise. The verdict comes from the source, read here; the worker's record
    of the modules it imported can only add evidence.
    """
    try:  # run the student's code first, so that the module tripwire sees what it imports
        student.scenario("fit_events", seed=fresh_seed(), n_epoch=1, device=str(device))
    except WorkerError:
        pass  # whether it works is the other checks' business
    try:
        modules = student.imported_modules()
    except WorkerError:
        modules = set()
    assert_all(lambda: assert_built_from_scratch(student_sources, what="The callbacks exercise", **BUILT_FROM_SCRATCH),
               lambda: assert_from_scratch([], student_sources,
                                           forbidden_names=["fastai.learner.Learner", "fastai.callback.core.Callback"],
                                           forbidden_modules=["fastai", "fastcore"], modules_seen=modules,
                                           what="The callbacks exercise"))
