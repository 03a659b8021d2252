"""Mistake: float64 logits are cast to float32 for the loss, and the result is cast back."""

_solution_log_softmax = log_softmax


def log_softmax(x, dim=-1):
    return _solution_log_softmax(x.float(), dim).to(x.dtype)
