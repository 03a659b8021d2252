"""Mistake: reaches the forbidden torch.mm through a computed getattr, hiding the name from a source scan."""

import torch

_name = "m" + "m"


def matmul(a, b):
    return getattr(torch, _name)(a, b)
