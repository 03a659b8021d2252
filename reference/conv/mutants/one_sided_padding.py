"""Mistake: all the padding goes to the bottom and right instead of both sides."""

import torch.nn.functional as F

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    ph, pw = _pair(padding)
    return _solution_conv2d(F.pad(x, (0, 2 * pw, 0, 2 * ph)), weight, bias, stride, 0, dilation)
