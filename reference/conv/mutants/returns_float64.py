"""Mistake: computes in float64 and returns float64 for float32 input."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    b = None if bias is None else bias.double()
    return _solution_conv2d(x.double(), weight.double(), b, stride, padding, dilation)
