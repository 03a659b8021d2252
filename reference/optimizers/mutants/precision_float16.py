"""Mistake: the updates are computed in float16 (half precision) and cast back."""


def sgd_step(p, lr, **kwargs):
    p.data.sub_((lr * p.grad.data.half()).to(p.dtype))


def momentum_step(p, lr, grad_avg, **kwargs):
    p.data.sub_((lr * grad_avg.half()).to(p.dtype))


def adam_step(p, lr, mom, step, sqr_mom, grad_avg, sqr_avg, eps, **kwargs):
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    update = grad_avg.half() / ((sqr_avg.half() / debias2).sqrt() + eps) * (lr / debias1)
    p.data.sub_(update.to(p.dtype))
