"""Mistake: stride=None is taken as stride 1 (it means stride = kernel_size), in max and average pooling."""

_solution_max_pool2d, _solution_avg_pool2d = max_pool2d, avg_pool2d


def max_pool2d(x, kernel_size, stride=None, padding=0):
    return _solution_max_pool2d(x, kernel_size, 1 if stride is None else stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return _solution_avg_pool2d(x, kernel_size, 1 if stride is None else stride, padding, count_include_pad)
