"""Mistake: torch-style thinking, momentum always dampened: grad_avg = mom*grad_avg + (1-mom)*grad."""


def average_grad(p, mom, dampening=False, grad_avg=None, **kwargs):
    if grad_avg is None:
        grad_avg = torch.zeros_like(p.grad.data)
    grad_avg.mul_(mom).add_(p.grad.data, alpha=1 - mom)
    return {"grad_avg": grad_avg}


average_grad.defaults = dict(mom=0.9)
