"""Mistake (precision): matmul computes in bfloat16 and casts the result back."""

_solution_matmul = matmul


def matmul(a, b):
    return _solution_matmul(a.bfloat16(), b.bfloat16()).to(a.dtype)
