"""Mistake: "weight decay" implemented as L2 regularisation (grad += wd*p) instead of p *= 1 - lr*wd."""


def weight_decay(p, lr, wd, do_wd=True, **kwargs):
    if do_wd and wd != 0:
        p.grad.data.add_(p.data, alpha=wd)


weight_decay.defaults = dict(wd=0.0)
