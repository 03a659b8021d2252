"""Mistake: make_pairs ignores the seed and uses the global random state."""

_solution_make_pairs = make_pairs


def make_pairs(labels, n, seed):
    return _solution_make_pairs(labels, n, random.randrange(2**31))
