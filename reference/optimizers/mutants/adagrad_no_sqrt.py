"""Mistake: Adagrad divides by the sum of squared gradients itself, not by its square root."""


def adagrad_step(p, lr, sum_sqr, eps, **kwargs):
    p.data.addcdiv_(p.grad.data, sum_sqr + eps, value=-lr)


adagrad_step.defaults = dict(eps=1e-10)
