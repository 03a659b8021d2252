"""Mistake: the receptive field adds up k - 1 per layer and ignores the strides."""

_solution_receptive_field = receptive_field


def receptive_field(layers):
    _solution_receptive_field(layers)  # the checks and ValueErrors
    return 1 + sum(kernel_size - 1 for kernel_size, _ in layers)
