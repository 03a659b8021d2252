"""Mistake: computes in bfloat16 and casts the result back to the input's dtype."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    b = None if bias is None else bias.bfloat16()
    return _solution_conv2d(x.bfloat16(), weight.bfloat16(), b, stride, padding, dilation).to(x.dtype)
