"""Mistake: the transposed size starts from n*s instead of (n - 1)*s."""

_solution_conv_transpose_output_size = conv_transpose_output_size


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return _solution_conv_transpose_output_size(n, kernel_size, stride, padding, output_padding, dilation) + stride
