"""Mistake: make_pairs uses a fixed seed (0) whatever seed it is given."""

_solution_make_pairs = make_pairs


def make_pairs(labels, n, seed):
    return _solution_make_pairs(labels, n, 0)
