"""Mistake: output_padding must be below the stride only; torch also allows it below the dilation."""

_solution_conv_transpose_output_size = conv_transpose_output_size


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    if output_padding >= stride:
        raise ValueError("output_padding must be smaller than stride")
    return _solution_conv_transpose_output_size(n, kernel_size, stride, padding, output_padding, dilation)
