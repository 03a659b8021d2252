"""Mistake: reaches the forbidden convolution through getattr, hiding the name from a source scan."""

import torch

_name = "conv" + "olution"


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    op = getattr(torch, _name)
    return op(x, weight, bias, _pair(stride), _pair(padding), _pair(dilation), False, (0, 0), 1)
