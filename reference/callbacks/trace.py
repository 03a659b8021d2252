"""Comparing event traces with fastai's, with messages that say where they part ways.

The event *sequence* is public knowledge (fastai's documentation lists it), so messages may name
the event fastai calls; the numbers (losses, gradients, weights) are never shown.
"""

from __future__ import annotations

import math

from grader.testing import assert_tensor_close, fail

_FLAGS = ("learn.training", "model.training", "torch.is_grad_enabled()")


def _where(entry: list) -> str:
    text = f"{entry[0]}.{entry[1]}"
    if len(entry) in (4, 7):
        text += f" (iter {entry[2]} of n_iter {entry[3]})"
    return text


def _events(trace: list) -> list:
    """Entries without the mode flags: ``[tag, event]`` or ``[tag, event, iter, n_iter]``."""
    return [e[:4] if len(e) in (4, 7) else e[:2] for e in trace]


def assert_same_events(got: object, want: list, *, what: str) -> None:
    """The same callbacks got the same events in the same order, with the same iter/n_iter."""
    __tracebackhide__ = True
    if not isinstance(got, list) or not all(isinstance(e, list) and len(e) >= 2 for e in got):
        fail(f"{what}: the recorded trace is not a list of events (did the scenario run?).")
    mine, theirs = _events(got), _events(want)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if a != b:
            before = f" right after {_where(theirs[i - 1])}" if i else " first"
            fail(f"{what}: call #{i + 1} differs. Your Learner called {_where(a)}, but fastai's calls "
                 f"{_where(b)}{before}. (A and B are two recording callbacks; A was given first.)")
    if len(mine) < len(theirs):
        fail(f"{what}: your Learner stopped after {len(mine)} callback calls; fastai's goes on with "
             f"{_where(theirs[len(mine)])}.")
    if len(mine) > len(theirs):
        fail(f"{what}: your Learner calls more events than fastai's: after the last one fastai calls, "
             f"yours goes on with {_where(mine[len(theirs)])}.")


def assert_same_modes(got: list, want: list, *, what: str) -> None:
    """Inside the train and validate loops: learn.training, model.training and grad mode as fastai's."""
    __tracebackhide__ = True
    assert_same_events(got, want, what=what)
    for a, b in zip(got, want):
        flags_a, flags_b = a[-3:] if len(a) in (5, 7) else None, b[-3:] if len(b) in (5, 7) else None
        if flags_a != flags_b:
            if flags_a is None or flags_b is None:
                fail(f"{what}: at {_where(a)} the recorder could not tell whether it is inside the "
                     "training or validation loop.")
            for name, x, y in zip(_FLAGS, flags_a, flags_b):
                if x != y:
                    fail(f"{what}: at {_where(a)} {name} is {x}, but it must be {y}. Training runs with "
                         "model.train() and learn.training = True; validation with model.eval(), "
                         "learn.training = False and under torch.no_grad().")


def assert_same_values(got: object, want: list, *, what: str, rtol: float = 1e-5) -> None:
    """Losses, gradient sums and weight sums recorded along the way equal fastai's run."""
    __tracebackhide__ = True
    if not isinstance(got, list) or not all(isinstance(v, list) and len(v) == 2 for v in got):
        fail(f"{what}: the recorded values are not a list of [kind, number] pairs.")
    kinds_a, kinds_b = [v[0] for v in got], [v[0] for v in want]
    if kinds_a != kinds_b:
        fail(f"{what}: the recorder saw the events after_create/after_loss/after_backward/after_step in a "
             f"different pattern than with fastai's Learner.")
    for i, ((kind, a), (_, b)) in enumerate(zip(got, want)):
        if kind == "learn_set":
            if a is not True:
                fail(f"{what}: in after_create the callback's `learn` attribute was not set yet; "
                     "set cb.learn before calling any event.")
            continue
        if type(a) is not float or not (math.isclose(a, b, rel_tol=rtol, abs_tol=rtol) or (a != a and b != b)):
            step = sum(1 for k, _ in got[: i + 1] if k == kind)
            hints = {"loss": "the loss (check forward, loss_func and that every batch is used once)",
                     "grad": "the gradients after backward (are they zeroed after every step?)",
                     "weights": "the weights after the optimizer step"}
            fail(f"{what}: {hints[kind]} at the {step}. {kind} record differs from fastai's run with the "
                 "same model, data and optimizer.")


def assert_same_state(got: object, want: dict, *, what: str) -> None:
    """The model's final weights equal fastai's after the same fit."""
    __tracebackhide__ = True
    if not isinstance(got, dict) or sorted(got) != sorted(want):
        fail(f"{what}: the model's state_dict after fit has other entries than expected.")
    for key, value in want.items():
        assert_tensor_close(got[key], value, what=f"{what}: the trained {key}", rtol=1e-5, atol=1e-5)
