"""Mistake: Adam adds eps inside the square root (fastai adds it after taking the root)."""


def adam_step(p, lr, mom, step, sqr_mom, grad_avg, sqr_avg, eps, **kwargs):
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    p.data.addcdiv_(grad_avg, (sqr_avg / debias2 + eps).sqrt(), value=-lr / debias1)
