"""Mistake: the bias is never added."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return _solution_conv2d(x, weight, None, stride, padding, dilation)
