"""Mistake: batch i uses start*(end/start)**(i/(num_it-1)), so the last batch reaches end_lr."""

_solution_lr_find = lr_find


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    # the exponential schedule of num_it - 1 steps per decade span, num_it batches: same as a larger end_lr
    stretched_end = start_lr * (end_lr / start_lr) ** (num_it / (num_it - 1))
    return _solution_lr_find(trainer, start_lr, stretched_end, num_it, stop_div, beta)
