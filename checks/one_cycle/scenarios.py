"""Scenarios for `one_cycle`: code the checks run inside the worker, against your package.

``combine_scheds`` needs *functions* as its schedules, and functions cannot be sent to your code
from the grader, so this scenario builds them next to your code and returns only numbers.
"""

from __future__ import annotations


def poly_phase(start, end, power):
    """A phase schedule ``f(pos) = start + (end - start) * pos ** power`` (fastai's ``SchedPoly``)."""
    def f(pos):
        return start + (end - start) * pos ** power
    return f


def combine_values(impl, *, pcts, phases, positions, seed=None):
    """``impl.combine_scheds(pcts, [poly_phase(*phase) ...])`` evaluated at every position.

    ``phases`` is a list of ``(start, end, power)``; returns the list of values (as returned).
    ``seed`` is the grader's run seed (unused: nothing here is random).
    """
    f = impl.combine_scheds(list(pcts), [poly_phase(*p) for p in phases])
    return [f(p) for p in positions]
