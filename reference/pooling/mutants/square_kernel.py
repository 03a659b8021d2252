"""Mistake: a tuple kernel_size is taken as square (kH used for both axes)."""

_solution_max_pool2d, _solution_avg_pool2d = max_pool2d, avg_pool2d


def _square(kernel_size):
    return kernel_size if isinstance(kernel_size, int) else kernel_size[0]


def max_pool2d(x, kernel_size, stride=None, padding=0):
    return _solution_max_pool2d(x, _square(kernel_size), _square(kernel_size) if stride is None else stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return _solution_avg_pool2d(x, _square(kernel_size), _square(kernel_size) if stride is None else stride,
                                padding, count_include_pad)
