"""Mistake: the bias is added without checking for `bias=None` (AttributeError on None)."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return _solution_conv2d(x, weight, None, stride, padding, dilation) + bias.reshape(1, -1, 1, 1)
