"""Mistake: conv_transpose_output_size checks output_padding but never adds it."""

_solution_conv_transpose_output_size = conv_transpose_output_size


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    size = _solution_conv_transpose_output_size(n, kernel_size, stride, padding, output_padding, dilation)
    return size - output_padding
