"""Mistake: count_include_pad is ignored: every window is divided by kH*kW."""

_solution_avg_pool2d = avg_pool2d


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return _solution_avg_pool2d(x, kernel_size, stride, padding, True)
