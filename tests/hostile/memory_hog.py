"""Try to allocate 50 GB, in steps and at once."""
import torch


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    hoard = []
    for _ in range(500):
        hoard.append(torch.ones(25_000_000))  # 100 MB each, touched
    return torch.empty(50 * 2**30 // 4)
