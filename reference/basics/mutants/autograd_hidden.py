"""Mistake: torch.autograd.grad reached through a computed getattr (no `.backward` or `autograd` in the source)."""

import torch

_ag = getattr(torch, "auto" + "grad")


def mlp_forward_backward(x, w1, b1, w2, b2, y):
    names = ("w1", "b1", "w2", "b2")
    p = [v.detach().clone().requires_grad_(True) for v in (w1, b1, w2, b2)]
    with torch.enable_grad():
        loss = mse(lin(relu(lin(x, p[0], p[1])), p[2], p[3]), y)
        gs = _ag.grad(loss, p)
    return loss.detach(), dict(zip(names, gs))
