"""Mistake: the run stops on divergence even when stop_div is False."""

_solution_lr_find = lr_find


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    return _solution_lr_find(trainer, start_lr, end_lr, num_it, True, beta)
