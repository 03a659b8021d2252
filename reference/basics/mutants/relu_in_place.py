"""Mistake: relu zeroes the negatives of its input in place and returns the input."""


def relu(x):
    x[x < 0] = 0
    return x
