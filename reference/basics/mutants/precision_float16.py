"""Mistake (precision): matmul computes in float16 and casts the result back."""

_solution_matmul = matmul


def matmul(a, b):
    return _solution_matmul(a.half(), b.half()).to(a.dtype)
