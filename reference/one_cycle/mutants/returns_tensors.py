"""Mistake: one_cycle_schedule returns tensors instead of lists of Python floats."""

import torch as _torch

_solution_one_cycle_schedule = one_cycle_schedule


def one_cycle_schedule(n_iter, lr_max, div=25., div_final=1e5, pct_start=0.25, moms=(0.95, 0.85, 0.95)):
    lrs, moms_ = _solution_one_cycle_schedule(n_iter, lr_max, div, div_final, pct_start, moms)
    return _torch.tensor(lrs), _torch.tensor(moms_)
