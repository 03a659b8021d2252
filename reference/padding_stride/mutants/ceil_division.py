"""Mistake: the number of steps is rounded up (ceil), so a last window that does not fit is counted."""

import math

_solution_conv_output_size = conv_output_size


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    _solution_conv_output_size(n, kernel_size, stride, padding, dilation)  # the checks and ValueErrors
    return math.ceil((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
