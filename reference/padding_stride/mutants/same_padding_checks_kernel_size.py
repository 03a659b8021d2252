"""Mistake: same_padding raises for an even kernel_size, though with an even dilation k_eff is odd."""

_solution_same_padding = same_padding


def same_padding(kernel_size, dilation=1):
    if kernel_size % 2 == 0:
        raise ValueError("even kernel size")
    return _solution_same_padding(kernel_size, dilation)
