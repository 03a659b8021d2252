"""Mistake: the squared-gradient average is not dampened by default (dampening=False)."""


def average_sqr_grad(p, sqr_mom, dampening=False, sqr_avg=None, **kwargs):
    if sqr_avg is None:
        sqr_avg = torch.zeros_like(p.grad.data)
    damp = 1 - sqr_mom if dampening else 1.0
    sqr_avg.mul_(sqr_mom).addcmul_(p.grad.data, p.grad.data, value=damp)
    return {"sqr_avg": sqr_avg}


average_sqr_grad.defaults = dict(sqr_mom=0.99)
