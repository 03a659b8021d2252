"""Mistake: calls the forbidden F.max_pool2d instead of pooling by hand."""


def max_pool2d(x, kernel_size, stride=None, padding=0):
    return F.max_pool2d(x, kernel_size, stride, padding)
