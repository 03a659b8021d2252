"""Pooling from scratch / Pooling (Zusammenfassen) von Grund auf (student: loops and slices)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """Turn ``3`` into ``(3, 3)`` and leave ``(3, 1)`` as it is (height first, then width)."""
    if isinstance(value, int):
        return (value, value)
    h, w = value
    return (int(h), int(w))


def _windows(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int]) -> torch.Tensor:
    """All ``kH x kW`` windows of ``x`` (N, C, H, W) as a tensor (N, C, H_out, W_out, kH*kW)."""
    kernel_h, kernel_w = kernel
    step_h, step_w = stride
    n_rows = (x.shape[2] - kernel_h) // step_h + 1
    n_cols = (x.shape[3] - kernel_w) // step_w + 1
    grid = []
    for r in range(n_rows):
        line = []
        for c in range(n_cols):
            block = x[:, :, r * step_h:r * step_h + kernel_h, c * step_w:c * step_w + kernel_w]
            line.append(block.reshape(x.shape[0], x.shape[1], -1))
        grid.append(torch.stack(line, dim=2))
    return torch.stack(grid, dim=2)


def max_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """Max pooling of ``x`` (N, C, H, W): the largest value of every window."""
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    pad_h, pad_w = _pair(padding)
    framed = F.pad(x, [pad_w, pad_w, pad_h, pad_h], mode="constant", value=-math.inf)
    return torch.amax(_windows(framed, k, s), dim=4)


def avg_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0, count_include_pad: bool = True) -> torch.Tensor:
    """Average pooling of ``x`` (N, C, H, W): the mean of every window."""
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    pad_h, pad_w = _pair(padding)
    framed = F.pad(x, [pad_w, pad_w, pad_h, pad_h])
    totals = torch.sum(_windows(framed, k, s), dim=4)
    if not count_include_pad:
        mask = F.pad(torch.ones_like(x[:1, :1]), [pad_w, pad_w, pad_h, pad_h])
        return totals / torch.sum(_windows(mask, k, s), dim=4)
    return totals / float(k[0] * k[1])


def _bin_edges(size: int, out: int) -> list[tuple[int, int]]:
    """The ``out`` windows ``(start, end)`` adaptive pooling uses along an axis of length ``size``."""
    edges = []
    for index in range(out):
        start = math.floor(index * size / out)
        stop = math.ceil((index + 1) * size / out)
        edges.append((start, stop))
    return edges


def _adaptive(x: torch.Tensor, output_size: int | tuple[int, int], reduce) -> torch.Tensor:
    """Pool every (row bin, column bin) rectangle of ``x`` with ``reduce`` over the last two dims."""
    out_h, out_w = _pair(output_size)
    bins_h = _bin_edges(x.shape[-2], out_h)
    bins_w = _bin_edges(x.shape[-1], out_w)
    cells = [[reduce(x[..., top:bottom, left:right]) for left, right in bins_w] for top, bottom in bins_h]
    return torch.stack([torch.stack(row, dim=-1) for row in cells], dim=-2)


def adaptive_avg_pool2d(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Adaptive average pooling of ``x`` (N, C, H, W) to ``output_size`` (int or (out_h, out_w))."""
    return _adaptive(x, output_size, lambda cell: cell.mean(dim=(-2, -1)))


def _adaptive_max_pool2d(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Adaptive max pooling: like ``adaptive_avg_pool2d`` with the maximum instead of the mean."""
    return _adaptive(x, output_size, lambda cell: cell.amax(dim=(-2, -1)))


class AdaptiveConcatPool2d(nn.Module):
    """Adaptive max pooling and adaptive average pooling, concatenated on the channel axis."""

    def __init__(self, size: int | tuple[int, int] | None = 1) -> None:
        super().__init__()
        self.size = size or 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mx = _adaptive_max_pool2d(x, self.size)
        av = adaptive_avg_pool2d(x, self.size)
        return torch.cat((mx, av), 1)
