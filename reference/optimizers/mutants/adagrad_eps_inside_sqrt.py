"""Mistake: Adagrad adds eps inside the square root (torch.optim adds it after: sqrt(sum_sqr) + eps)."""


def adagrad_step(p, lr, sum_sqr, eps, **kwargs):
    p.data.addcdiv_(p.grad.data, (sum_sqr + eps).sqrt(), value=-lr)


adagrad_step.defaults = dict(eps=1e-10)
