"""Mistake: computes in float16 (half precision) and casts the result back to the input's dtype."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    b = None if bias is None else bias.half()
    return _solution_conv2d(x.half(), weight.half(), b, stride, padding, dilation).to(x.dtype)
