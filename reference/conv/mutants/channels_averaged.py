"""Mistake: the input channels are averaged instead of summed."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return _solution_conv2d(x, weight / x.shape[1], bias, stride, padding, dilation)
