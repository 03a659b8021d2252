"""Mistake: make_pairs' `same` flag is inverted (True for different-class pairs)."""

_solution_make_pairs = make_pairs


def make_pairs(labels, n, seed):
    return [(i, j, not same) for i, j, same in _solution_make_pairs(labels, n, seed)]
