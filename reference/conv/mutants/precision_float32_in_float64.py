"""Mistake: a float64 call is computed in float32 and cast back (float64 in must mean float64 math)."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    b = None if bias is None else bias.float()
    return _solution_conv2d(x.float(), weight.float(), b, stride, padding, dilation).to(x.dtype)
