"""The learning rate finder from scratch / Der Lernraten-Finder von Grund auf.

``learn.lr_find()`` (Leslie Smith's *LR range test*, fastbook ch. 5) trains for at most
``num_it`` mini-batches, starting with a tiny learning rate (Lernrate) and multiplying it by the
same factor after every batch, and records the loss. The loss first hardly moves (the steps are
too small), then falls (a good range), then explodes (too large). The model's weights are saved
before and restored afterwards, so the test changes nothing. From the curve, fastai suggests a
learning rate ("valley", "minimum", "steep").

You write what ``fastai.callback.schedule`` does (``LRFinder``, ``Learner.lr_find``, ``valley``,
``minimum``, ``steep``) against a small *trainer* interface instead of a Learner::

    trainer.save_state()        # remember the model and optimizer state
    trainer.train_step(lr)      # train one mini-batch with learning rate lr; returns its (raw) loss
    trainer.restore_state()     # go back to the saved state

The conventions (fastai's, every one is checked):

- **Schedule** (exponential, as ``LRFinder``'s ``SchedExp``): batch ``i`` (``i = 0, 1, ...``) uses
  ``lr_i = start_lr * (end_lr / start_lr) ** (i / num_it)``. (So batch ``num_it`` would be
  ``end_lr``, but the last batch that can run is ``i = num_it - 1``.)
- **Smoothed loss** (fastai's ``Recorder`` with ``AvgSmoothLoss``): an exponential moving average
  with bias correction (Verzerrungskorrektur). With ``avg_0 = 0`` and the raw loss ``l_k`` of the
  ``k``-th batch (``k = 1, 2, ...``)::

      avg_k    = beta * avg_{k-1} + (1 - beta) * l_k
      smooth_k = avg_k / (1 - beta ** k)

  ``losses`` holds ``smooth_k``, not the raw losses. A NaN raw loss makes every later smoothed
  loss NaN (that is fine; nothing special is done about it).
- **Stopping**: after recording batch ``k``, keep the best (lowest) smoothed loss so far; if
  ``stop_div`` and ``smooth_k > 4 * best``, stop. The batch that diverged **is** recorded (its lr
  and smoothed loss are the last entries). Otherwise stop after ``num_it`` batches.
- **State**: ``save_state()`` exactly once, before the first ``train_step``; ``restore_state()``
  exactly once, after the last one, also when the run stopped early. (The checks see this in
  the numbers: they run ``lr_find`` twice on the same trainer, and the second run must start
  from the model the first one started from.)

Then, as in ``Learner.lr_find``, the suggestions look at a *window* of the curve (the first
batches are noise, the last ones exploded) and pick a learning rate from it.

Rules: plain Python (``math``) is enough; torch is allowed. Forbidden: importing fastai (or
fasttransform) in any way, re-exporting or wrapping fastai's functions (``valley``, ``minimum``
and ``steep`` included); breaking this rule costs all points of the exercise (dynamic code such
as ``exec``, ``eval``, ``importlib`` or ``__import__`` counts as breaking it). The checks run your code
with scripted loss sequences (falling, noisy, diverging, NaN) and compare every recorded value
with fastai's ``LRFinder`` (relative tolerance 1e-5), and the suggestions with fastai's
``valley``, ``minimum`` and ``steep``. (fastai raises ``num_it`` below 6 to 6; the checks never
use such small values.)
"""

from __future__ import annotations

import math
import typing as t


class Trainer(t.Protocol):
    """What ``lr_find`` needs from the training side."""

    def train_step(self, lr: float) -> float: ...
    def save_state(self) -> None: ...
    def restore_state(self) -> None: ...


def lr_find(trainer: Trainer, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100,
            stop_div: bool = True, beta: float = 0.98) -> tuple[list[float], list[float]]:
    """Run the learning rate range test on ``trainer``; return ``(lrs, losses)``.

    ``lrs[k]`` is the learning rate the ``k``-th batch was trained with, ``losses[k]`` the
    *smoothed* loss after it (bias-corrected moving average, see the module docstring). Both are
    lists of Python floats of the same length: the number of batches that ran (``num_it``, or
    fewer when the smoothed loss exceeded 4 times the best one and ``stop_div`` is true).

    Call ``trainer.save_state()`` before the first ``train_step`` and ``trainer.restore_state()``
    after the last one (also when stopping early).
    """
    # TODO: your code here
    raise NotImplementedError("lr_find: not implemented yet (exercise lr_find)")


def suggestion_window(lrs: t.Sequence[float], losses: t.Sequence[float],
                      num_it: int) -> tuple[list[float], list[float]]:
    """The part of the curve the suggestions look at, exactly as ``Learner.lr_find`` cuts it.

    1. drop the first ``num_it // 10`` points and the last 5 points
       (Python: ``lrs[num_it // 10:-5]``, the same for ``losses``);
    2. if a loss in what is left is NaN, cut both lists just before the first NaN.

    ``lrs`` and ``losses`` are sequences of floats of equal length (what ``lr_find`` returned);
    returns two lists of Python floats (maybe empty).
    """
    # TODO: your code here
    raise NotImplementedError("suggestion_window: not implemented yet (exercise lr_find)")


def suggest_valley(lrs: t.Sequence[float], losses: t.Sequence[float]) -> float:
    """fastai's ``valley``: a learning rate from the longest valley of the curve.

    On a window (non-empty lists of floats, no NaN), with ``n = len(losses)``:

    1. ``lds[i]``: the length of the longest strictly *decreasing* subsequence of losses that ends
       at ``i`` (``lds[i] = 1 + max(lds[j] for j < i with losses[i] < losses[j])``, or 1).
    2. ``max_end``: the first ``i`` with the largest ``lds[i]``; ``max_start = max_end - lds[max_end]``
       (fastai's formula as it is: it can be -1 when the valley starts at index 0).
    3. ``sections = (max_end - max_start) / 3`` and
       ``idx = max_start + int(sections) + int(sections / 2)``.

    Returns ``float(lrs[idx])`` (``idx`` can be -1 for a very short valley from index 0: then, as
    in fastai, Python's negative indexing picks the last element). Hint: two nested loops over
    ``i`` and ``j < i``, as in fastai.
    """
    # TODO: your code here
    raise NotImplementedError("suggest_valley: not implemented yet (exercise lr_find)")


def suggest_minimum(lrs: t.Sequence[float], losses: t.Sequence[float]) -> float:
    """fastai's ``minimum``: one tenth of the learning rate at the lowest loss.

    ``lrs[k] / 10`` where ``k`` is the index of the smallest loss (the first one if several are
    equally small). At the minimum the loss has stopped falling; a tenth of it is still safely
    in the falling part. Returns a Python float.
    """
    # TODO: your code here
    raise NotImplementedError("suggest_minimum: not implemented yet (exercise lr_find)")


def suggest_steep(lrs: t.Sequence[float], losses: t.Sequence[float]) -> float:
    """fastai's ``steep``: the learning rate where the loss falls fastest, per step of log(lr).

    Slopes between neighbours, against the *logarithm* of the learning rate::

        grads[k] = (losses[k+1] - losses[k]) / (log(lrs[k+1]) - log(lrs[k]))

    Returns ``float(lrs[k])`` for the ``k`` with the smallest (most negative) ``grads[k]`` (the
    left point of the steepest segment; the first such ``k`` on ties). Needs >= 2 points.
    """
    # TODO: your code here
    raise NotImplementedError("suggest_steep: not implemented yet (exercise lr_find)")
