"""Mistake: the padding is counted once (n + p), but it goes on both sides (n + 2*p)."""


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    _at_least("n", n, 1)
    _at_least("kernel_size", kernel_size, 1)
    _at_least("stride", stride, 1)
    _at_least("padding", padding, 0)
    _at_least("dilation", dilation, 1)
    effective = dilation * (kernel_size - 1) + 1
    if n + padding < effective:
        raise ValueError("the kernel does not fit")
    return (n + padding - effective) // stride + 1
