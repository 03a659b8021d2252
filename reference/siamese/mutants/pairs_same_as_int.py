"""Mistake: make_pairs returns `same` as an int 0/1 (or a tensor) instead of a Python bool."""

_solution_make_pairs = make_pairs


def make_pairs(labels, n, seed):
    return [(i, j, int(same)) for i, j, same in _solution_make_pairs(labels, n, seed)]
