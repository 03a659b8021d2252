"""Every pooling forwards to torch's own (F.max_pool2d, F.avg_pool2d, adaptive pooling): all values right."""

import torch
import torch.nn.functional as F
from torch import nn


def max_pool2d(x, kernel_size, stride=None, padding=0):
    return F.max_pool2d(x, kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return F.avg_pool2d(x, kernel_size, stride, padding, count_include_pad=count_include_pad)


def adaptive_avg_pool2d(x, output_size):
    return F.adaptive_avg_pool2d(x, output_size)


class AdaptiveConcatPool2d(nn.Module):
    def __init__(self, size=1):
        super().__init__()
        self.mp, self.ap = nn.AdaptiveMaxPool2d(size or 1), nn.AdaptiveAvgPool2d(size or 1)

    def forward(self, x):
        return torch.cat([self.mp(x), self.ap(x)], dim=1)
