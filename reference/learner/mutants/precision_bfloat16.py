"""Mistake: the loss is computed in bfloat16 and cast back."""

_solution_log_softmax = log_softmax


def log_softmax(x, dim=-1):
    return _solution_log_softmax(x.bfloat16(), dim).to(x.dtype)
