"""Mistake: conv_output_size ignores the dilation (it uses kernel_size, not d*(k - 1) + 1)."""

_solution_conv_output_size = conv_output_size


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    return _solution_conv_output_size(n, kernel_size, stride, padding, 1)
