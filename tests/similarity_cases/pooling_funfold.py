"""Pooling from scratch / Pooling (Zusammenfassen) von Grund auf (student: F.unfold)."""

from __future__ import annotations

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
    n, c, h, w = x.shape
    oh = (h - kernel[0]) // stride[0] + 1
    ow = (w - kernel[1]) // stride[1] + 1
    # every channel on its own: fold the channels into the batch for F.unfold
    cols = F.unfold(x.reshape(n * c, 1, h, w), kernel_size=kernel, stride=stride)  # (N*C, kH*kW, L)
    return cols.transpose(1, 2).reshape(n, c, oh, ow, kernel[0] * kernel[1])


def _prepare(x, kernel_size, stride, padding, fill):
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    return F.pad(x, (pw, pw, ph, ph), value=fill), kernel, stride, (ph, pw)


def max_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """Max pooling of ``x`` (N, C, H, W): the largest value of every window."""
    xp, kernel, stride, _ = _prepare(x, kernel_size, stride, padding, float("-inf"))
    best, _ = _windows(xp, kernel, stride).max(-1)
    return best


def avg_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0, count_include_pad: bool = True) -> torch.Tensor:
    """Average pooling of ``x`` (N, C, H, W): the mean of every window."""
    xp, kernel, stride, (ph, pw) = _prepare(x, kernel_size, stride, padding, 0.0)
    if count_include_pad:
        return _windows(xp, kernel, stride).mean(-1)
    real = torch.zeros_like(xp[:1, :1])
    real[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = 1
    counts = _windows(real, kernel, stride).sum(-1)
    return _windows(xp, kernel, stride).sum(-1) / counts


def _bin_edges(size: int, out: int) -> list[tuple[int, int]]:
    """The ``out`` windows ``(start, end)`` adaptive pooling uses along an axis of length ``size``."""
    starts = [(k * size) // out for k in range(out)]
    ends = [((k + 1) * size + out - 1) // out for k in range(out)]
    return list(zip(starts, ends))


def adaptive_avg_pool2d(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Adaptive average pooling of ``x`` (N, C, H, W) to ``output_size`` (int or (out_h, out_w))."""
    target = _pair(output_size)
    out = x.new_empty(*x.shape[:2], *target)
    for a, (y0, y1) in enumerate(_bin_edges(x.shape[2], target[0])):
        for b, (x0, x1) in enumerate(_bin_edges(x.shape[3], target[1])):
            out[:, :, a, b] = x[:, :, y0:y1, x0:x1].mean(dim=(2, 3))
    return out


def _adaptive_max_pool2d(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Adaptive max pooling: like ``adaptive_avg_pool2d`` with the maximum instead of the mean."""
    target = _pair(output_size)
    out = x.new_empty(*x.shape[:2], *target)
    for a, (y0, y1) in enumerate(_bin_edges(x.shape[2], target[0])):
        for b, (x0, x1) in enumerate(_bin_edges(x.shape[3], target[1])):
            out[:, :, a, b] = x[:, :, y0:y1, x0:x1].flatten(2).max(dim=2).values
    return out


class AdaptiveConcatPool2d(nn.Module):
    """Adaptive max pooling and adaptive average pooling, concatenated on the channel axis."""

    def __init__(self, size: int | tuple[int, int] | None = 1) -> None:
        super().__init__()
        self.size = size or 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([_adaptive_max_pool2d(x, self.size), adaptive_avg_pool2d(x, self.size)], dim=1)
