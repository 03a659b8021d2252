"""2D convolution from scratch / 2D-Faltung von Grund auf (student: loops over the output)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """Turn ``3`` into ``(3, 3)`` and leave ``(3, 1)`` as it is (height first, then width)."""
    if isinstance(value, int):
        return (value, value)
    h, w = value
    return (int(h), int(w))


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """Cross-correlate ``x`` (N, C, H, W) with ``weight`` (O, C, kH, kW); add ``bias`` (O,)."""
    stride_h, stride_w = _pair(stride)
    pad_h, pad_w = _pair(padding)
    dil_h, dil_w = _pair(dilation)
    batch, _, height, width = x.shape
    out_channels, _, k_h, k_w = weight.shape
    padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h))
    # how far one kernel reaches once the taps are spread apart
    span_h = dil_h * (k_h - 1) + 1
    span_w = dil_w * (k_w - 1) + 1
    rows = (height + 2 * pad_h - span_h) // stride_h + 1
    cols = (width + 2 * pad_w - span_w) // stride_w + 1
    result = x.new_zeros(batch, out_channels, rows, cols)
    for i in range(rows):
        top = i * stride_h
        for j in range(cols):
            left = j * stride_w
            patch = padded[:, :, top:top + span_h:dil_h, left:left + span_w:dil_w]
            result[:, :, i, j] = (patch.unsqueeze(1) * weight.unsqueeze(0)).sum(dim=(2, 3, 4))
    if bias is not None:
        result += bias.view(1, -1, 1, 1)
    return result
