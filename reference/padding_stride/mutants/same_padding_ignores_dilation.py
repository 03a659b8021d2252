"""Mistake: same_padding ignores the dilation: (k - 1) // 2, and ValueError for every even k."""

_solution_same_padding = same_padding


def same_padding(kernel_size, dilation=1):
    _at_least("dilation", dilation, 1)
    return _solution_same_padding(kernel_size, 1)
