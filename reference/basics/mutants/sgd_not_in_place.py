"""Mistake: sgd_step builds new tensors (p = p - lr * g) instead of updating the caller's tensors in place."""


def sgd_step(params, grads, lr):
    return {key: p - lr * grads[key] for key, p in params.items()}
