"""Mistake: Adam without bias correction (the averages, started at zero, are used as they are)."""


def adam_step(p, lr, mom, step, sqr_mom, grad_avg, sqr_avg, eps, **kwargs):
    p.data.addcdiv_(grad_avg, sqr_avg.sqrt() + eps, value=-lr)
