"""conv2d is torch's own F.conv2d: every value check passes, the gate takes all the points away."""

import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return F.conv2d(x, weight, bias, stride, padding, dilation)
