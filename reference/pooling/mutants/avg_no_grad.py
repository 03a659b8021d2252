"""Mistake: average pooling computed under torch.no_grad() "for speed": no gradient reaches the input."""

_solution_avg_pool2d = avg_pool2d


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    with torch.no_grad():
        return _solution_avg_pool2d(x, kernel_size, stride, padding, count_include_pad)
