"""Mistake: `.squeeze()` at the end drops the batch axis of a single image (and size-1 channels)."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return _solution_conv2d(x, weight, bias, stride, padding, dilation).squeeze()
