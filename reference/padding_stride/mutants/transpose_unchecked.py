"""Mistake: conv_transpose_output_size never raises: output_padding too large and sizes below 1 go through."""


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
