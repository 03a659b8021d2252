"""Mistake: `(n + 2p - k_eff + 1) // s`, i.e. the + 1 inside the division instead of after it."""

_solution_conv_output_size = conv_output_size


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    _solution_conv_output_size(n, kernel_size, stride, padding, dilation)  # the checks and ValueErrors
    return (n + 2 * padding - dilation * (kernel_size - 1)) // stride
