"""Mistake: log_softmax hands the work to the tensor method ``x.log_softmax`` (forbidden: torch's softmax)."""


def log_softmax(x, dim=-1):
    return x.log_softmax(dim)
