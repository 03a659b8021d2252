"""Mistake: a true convolution (the kernel is flipped), but conv2d is a cross-correlation."""

_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return _solution_conv2d(x, weight.flip(-2, -1), bias, stride, padding, dilation)
