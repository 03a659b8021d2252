"""Mistake (precision): float64 inputs are pooled in float32 (average and adaptive) and cast back to float64."""

_solution_avg_pool2d, _solution_adaptive_avg_pool2d = avg_pool2d, adaptive_avg_pool2d


def _single(x):
    return x.float() if x.dtype == torch.float64 else x


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return _solution_avg_pool2d(_single(x), kernel_size, stride, padding, count_include_pad).to(x.dtype)


def adaptive_avg_pool2d(x, output_size):
    return _solution_adaptive_avg_pool2d(_single(x), output_size).to(x.dtype)
