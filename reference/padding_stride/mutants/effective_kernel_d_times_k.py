"""Mistake: the dilated kernel is taken to cover d*k positions instead of d*(k - 1) + 1."""


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    _at_least("n", n, 1)
    _at_least("kernel_size", kernel_size, 1)
    _at_least("stride", stride, 1)
    _at_least("padding", padding, 0)
    _at_least("dilation", dilation, 1)
    if n + 2 * padding < dilation * kernel_size:
        raise ValueError("the kernel does not fit")
    return (n + 2 * padding - dilation * kernel_size) // stride + 1
