"""Mistake (precision): matmul casts float64 inputs to float32, computes, and casts back."""

_solution_matmul = matmul


def matmul(a, b):
    return _solution_matmul(a.float(), b.float()).to(a.dtype)
