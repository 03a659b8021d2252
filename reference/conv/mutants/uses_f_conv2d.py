"""Mistake: calls the forbidden F.conv2d instead of computing the convolution."""

import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return F.conv2d(x, weight, bias, stride, padding, dilation)
