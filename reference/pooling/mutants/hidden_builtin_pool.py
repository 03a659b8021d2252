"""Mistake: reaches the forbidden built-in adaptive pooling through getattr, hiding the name from a source scan."""

_name = "adaptive_avg" + "_pool2d"


def adaptive_avg_pool2d(x, output_size):
    return getattr(F, _name)(x, output_size)
