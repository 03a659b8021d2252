"""Mistake: matmul uses the forbidden @ operator."""


def matmul(a, b):
    return a @ b
