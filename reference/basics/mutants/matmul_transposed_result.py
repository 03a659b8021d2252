"""Mistake: the loops are swapped and the result comes out transposed, (m, n) instead of (n, m)."""

_solution_matmul = matmul


def matmul(a, b):
    return _solution_matmul(a, b).t()
