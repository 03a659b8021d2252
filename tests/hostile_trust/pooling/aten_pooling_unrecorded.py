"""Pooling through torch names that the exercise's list does not spell out (max_pool3d on a one-deep
volume, the aten op behind adaptive pooling), run outside the worker's aten-op record."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import _disable_current_modes


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    k = _pair(kernel_size)
    with _disable_current_modes():
        out = torch.max_pool3d(x.unsqueeze(2), (1, *k), (1, *_pair(stride or k)), (0, *_pair(padding)))
    return out.squeeze(2)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):  # honest, for once
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = _pair(stride or kernel_size)
    windows = F.pad(x, (pw, pw, ph, ph)).unfold(-2, kh, sh).unfold(-2, kw, sw)
    if count_include_pad:
        return windows.mean((-2, -1))
    ones = F.pad(torch.ones_like(x[:1, :1]), (pw, pw, ph, ph)).unfold(-2, kh, sh).unfold(-2, kw, sw)
    return windows.sum((-2, -1)) / ones.sum((-2, -1))


def adaptive_avg_pool2d(x, output_size):
    with _disable_current_modes():
        return torch.ops.aten._adaptive_avg_pool2d(x, list(_pair(output_size)))


class AdaptiveConcatPool2d(nn.Module):
    def __init__(self, size=1):
        super().__init__()
        self.size = size or 1

    def forward(self, x):
        with _disable_current_modes():
            return torch.cat([F._adaptive_max_pool2d(x, self.size), adaptive_avg_pool2d(x, self.size)], dim=1)
