"""Mistake: plain SGD handed to torch.optim.SGD (forbidden), which gives the same numbers."""

import torch.optim

_solution_SGD = SGD


def SGD(params, lr, mom=0.0, wd=0.0, decouple_wd=True, nesterov=False):
    if mom == 0 and wd == 0:
        return torch.optim.SGD(list(params), lr=lr)
    return _solution_SGD(params, lr, mom=mom, wd=wd, decouple_wd=decouple_wd, nesterov=nesterov)
