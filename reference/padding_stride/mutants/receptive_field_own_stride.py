"""Mistake: a layer's own stride is multiplied in before its kernel is added (only earlier strides count)."""


def receptive_field(layers):
    field, jump = 1, 1
    for kernel_size, stride in layers:
        _at_least("kernel_size", kernel_size, 1)
        _at_least("stride", stride, 1)
        jump *= stride
        field += (kernel_size - 1) * jump
    return field
