"""Mistake: the step goes up the gradient (p += lr * g)."""

import torch


def sgd_step(params, grads, lr):
    with torch.no_grad():
        for key, p in params.items():
            p.add_(lr * grads[key])
    return params
