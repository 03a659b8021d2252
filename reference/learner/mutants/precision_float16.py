"""Mistake: the loss is computed in float16 (half precision) and cast back."""

_solution_log_softmax = log_softmax


def log_softmax(x, dim=-1):
    return _solution_log_softmax(x.half(), dim).to(x.dtype)
