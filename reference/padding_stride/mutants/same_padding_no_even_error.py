"""Mistake: same_padding returns k_eff // 2 for an even effective kernel instead of raising ValueError."""


def same_padding(kernel_size, dilation=1):
    _at_least("kernel_size", kernel_size, 1)
    _at_least("dilation", dilation, 1)
    return (dilation * (kernel_size - 1) + 1) // 2
