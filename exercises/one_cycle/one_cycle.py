"""The 1cycle policy from scratch / Die 1cycle-Strategie von Grund auf.

``fit_one_cycle`` does not train with one fixed learning rate (Lernrate). It *schedules* the
learning rate and the momentum over the whole run: a warm-up from a small learning rate up to
``lr_max``, then a long annealing (Abkühlung) down to almost zero, while the momentum moves the
**other** way (high when the learning rate is low, low when it is high). Leslie Smith's paper and
fastbook ch. 13/16 explain why: large learning rates in the middle of training let the model jump
out of sharp minima, the warm-up keeps the first steps stable, and the final small steps settle in.

Everything here is a function of the training progress ``pos`` in [0, 1] (0 = first batch,
1 = end of training). You write, as in ``fastai.callback.schedule``:

1. four annealing functions ``sched_*(start, end, pos)`` that go from ``start`` (pos 0) to ``end``
   (pos 1):

   - ``sched_lin``: linear, ``start + pos * (end - start)``
   - ``sched_cos``: cosine, ``start + (1 + cos(pi * (1 - pos))) * (end - start) / 2``
     (flat at both ends, steepest in the middle; *not* linear)
   - ``sched_no``: constant ``start``
   - ``sched_exp``: exponential, ``start * (end / start) ** pos``

2. ``combine_scheds(pcts, scheds)``: glue several schedules one after the other; schedule ``k``
   takes the fraction ``pcts[k]`` of the training, and **inside each phase the position starts
   again at 0** and runs to 1.

3. ``combined_cos(pct, start, middle, end)``: cosine from ``start`` to ``middle`` during the first
   ``pct`` of training, then cosine from ``middle`` to ``end``.

4. ``one_cycle_schedule(n_iter, lr_max, ...)``: the learning rates and momenta that
   ``fit_one_cycle`` uses for each of ``n_iter`` batches.

Rules: plain Python floats and ``math`` (no tensors needed). Forbidden: importing fastai (or
fasttransform) in any way, re-exporting or wrapping fastai's functions; breaking this rule costs
all points of the exercise (dynamic code such as ``exec``, ``eval``, ``importlib`` or
``__import__`` counts as breaking it: it hides what is used). The checks compare your
results with ``fastai.callback.schedule`` at many positions (also exactly at the phase
boundaries, at 0 and at 1) within a relative tolerance of 1e-5.
"""

from __future__ import annotations

import math
import typing as t
from functools import partial

Schedule = t.Callable[[float], float]


def sched_lin(start: float, end: float, pos: float) -> float:
    """Linear annealing from ``start`` (pos 0) to ``end`` (pos 1): ``start + pos * (end - start)``.

    Returns a Python float.
    """
    # TODO: your code here
    raise NotImplementedError("sched_lin: not implemented yet (exercise one_cycle)")


def sched_cos(start: float, end: float, pos: float) -> float:
    """Cosine annealing from ``start`` (pos 0) to ``end`` (pos 1).

    Formula (fastai's): ``start + (1 + cos(pi * (1 - pos))) * (end - start) / 2``. At pos 0 the
    cosine is ``cos(pi) = -1`` (value ``start``), at pos 1 it is ``cos(0) = 1`` (value ``end``);
    at pos 0.25 the value is only about 15 % of the way, not 25 % as a linear schedule would be.
    Returns a Python float.
    """
    # TODO: your code here
    raise NotImplementedError("sched_cos: not implemented yet (exercise one_cycle)")


def sched_no(start: float, end: float, pos: float) -> float:
    """No annealing: always ``start`` (``end`` and ``pos`` are ignored). Returns a Python float."""
    # TODO: your code here
    raise NotImplementedError("sched_no: not implemented yet (exercise one_cycle)")


def sched_exp(start: float, end: float, pos: float) -> float:
    """Exponential annealing from ``start`` to ``end``: ``start * (end / start) ** pos``.

    Equal steps of ``pos`` multiply the value by equal factors (a straight line on a log scale);
    ``start`` and ``end`` are positive. Returns a Python float.
    """
    # TODO: your code here
    raise NotImplementedError("sched_exp: not implemented yet (exercise one_cycle)")


def combine_scheds(pcts: t.Sequence[float], scheds: t.Sequence[Schedule]) -> Schedule:
    """Combine the schedules ``scheds`` (functions of one argument ``pos``) into one function ``f(pos)``.

    ``pcts[k]`` is the fraction of training that ``scheds[k]`` covers (the fractions are >= 0 and
    add up to 1). Phase ``k`` runs from ``b_k = pcts[0] + ... + pcts[k-1]`` to ``b_{k+1}``; inside it
    the schedule gets its **own** position, reset to run from 0 to 1::

        f(pos) = scheds[k]((pos - b_k) / pcts[k])      for b_k <= pos < b_{k+1}

    Conventions (fastai's): exactly at a boundary ``pos == b_k`` the *later* phase ``k`` is used
    (at its position 0); ``pos == 1`` belongs to the last phase (at its position 1). A schedule
    of one argument is e.g. ``functools.partial(sched_cos, 1.0, 2.0)`` or ``lambda p: ...``.

    Example: ``combine_scheds([0.3, 0.7], [partial(sched_lin, 0, 1), partial(sched_no, 1, 1)])``
    climbs linearly from 0 to 1 during the first 30 % and stays at 1 afterwards; at pos 0.15 the
    first schedule gets position 0.5.

    Returns a function (the checks call it with floats and expect a Python float back).
    """
    # TODO: your code here
    raise NotImplementedError("combine_scheds: not implemented yet (exercise one_cycle)")


def combined_cos(pct: float, start: float, middle: float, end: float) -> Schedule:
    """A function ``f(pos)``: cosine from ``start`` to ``middle`` during the first ``pct`` of training,
    then cosine from ``middle`` to ``end`` during the remaining ``1 - pct``.

    Hint: two ``sched_cos`` phases put together with ``combine_scheds``.
    """
    # TODO: your code here
    raise NotImplementedError("combined_cos: not implemented yet (exercise one_cycle)")


def one_cycle_schedule(n_iter: int, lr_max: float, div: float = 25., div_final: float = 1e5,
                       pct_start: float = 0.25,
                       moms: tuple[float, float, float] = (0.95, 0.85, 0.95)) -> tuple[list[float], list[float]]:
    """The learning rate and momentum of every batch of a ``fit_one_cycle`` run of ``n_iter`` batches.

    As ``Learner.fit_one_cycle`` (same defaults):

    - learning rate: ``combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)``: warm up
      from ``lr_max / div`` to ``lr_max`` during the first ``pct_start`` of training, then anneal
      down to ``lr_max / div_final`` (not to ``lr_max / div``);
    - momentum: ``combined_cos(pct_start, *moms)``, i.e. 0.95 -> 0.85 -> 0.95 by default: it goes
      **down** while the learning rate goes up, and back up while it goes down.

    Batch ``i`` (``i = 0, ..., n_iter - 1``) is at position ``pos = i / n_iter`` (the fraction of
    training done before it; the last batch is *not* at pos 1).

    Returns ``(lrs, moms)``: two lists of ``n_iter`` Python floats.
    """
    # TODO: your code here
    raise NotImplementedError("one_cycle_schedule: not implemented yet (exercise one_cycle)")
