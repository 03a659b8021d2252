"""Mistake (precision): average and adaptive pooling computed in bfloat16 and cast back to the input's dtype."""

_solution_avg_pool2d, _solution_adaptive_avg_pool2d = avg_pool2d, adaptive_avg_pool2d


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return _solution_avg_pool2d(x.bfloat16(), kernel_size, stride, padding, count_include_pad).to(x.dtype)


def adaptive_avg_pool2d(x, output_size):
    return _solution_adaptive_avg_pool2d(x.bfloat16(), output_size).to(x.dtype)
