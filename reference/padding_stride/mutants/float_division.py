"""Mistake: `/` instead of `//`: floats come back (right only when the division is exact)."""

_solution_conv_output_size = conv_output_size
_solution_same_padding = same_padding


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    _solution_conv_output_size(n, kernel_size, stride, padding, dilation)  # the checks and ValueErrors
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


def same_padding(kernel_size, dilation=1):
    _solution_same_padding(kernel_size, dilation)  # the checks and ValueErrors
    return dilation * (kernel_size - 1) / 2
