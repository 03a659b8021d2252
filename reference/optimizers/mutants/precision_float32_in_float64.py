"""Mistake: the updates are computed in float32 and cast back (float64 parameters lose precision)."""


def sgd_step(p, lr, **kwargs):
    p.data.copy_((p.data.float() - lr * p.grad.data.float()).to(p.dtype))


def adam_step(p, lr, mom, step, sqr_mom, grad_avg, sqr_avg, eps, **kwargs):
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    update = grad_avg.float() / ((sqr_avg.float() / debias2).sqrt() + eps) * (lr / debias1)
    p.data.copy_((p.data.float() - update).to(p.dtype))


def momentum_step(p, lr, grad_avg, **kwargs):
    p.data.copy_((p.data.float() - lr * grad_avg.float()).to(p.dtype))
