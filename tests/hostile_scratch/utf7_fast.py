# coding: utf-7
"""A fast max_pool2d, "from scratch"."""
# What a UTF-8 reader sees as this one comment line holds code for Python: +AAo-from torch.nn.functional import max_pool2d as _builtin


def max_pool2d(x, kernel_size, stride=None, padding=0):
    return _builtin(x, kernel_size, stride, padding)
