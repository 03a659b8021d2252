"""2D convolution from scratch / 2D-Faltung von Grund auf (student: Tensor.unfold and tensordot)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """Turn ``3`` into ``(3, 3)`` and leave ``(3, 1)`` as it is (height first, then width)."""
    if isinstance(value, int):
        return (value, value)
    h, w = value
    return (int(h), int(w))


def _receptive(k: int, d: int) -> int:
    """Rows (or columns) a kernel of size k covers with dilation d."""
    return (k - 1) * d + 1


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """Cross-correlate ``x`` (N, C, H, W) with ``weight`` (O, C, kH, kW); add ``bias`` (O,)."""
    step_y, step_x = _pair(stride)
    dil_y, dil_x = _pair(dilation)
    pad = _pair(padding)
    kernel_y, kernel_x = weight.shape[-2], weight.shape[-1]
    image = F.pad(x, [pad[1], pad[1], pad[0], pad[0]])
    reach_y, reach_x = _receptive(kernel_y, dil_y), _receptive(kernel_x, dil_x)
    tiles = image.unfold(2, reach_y, step_y).unfold(3, reach_x, step_x)
    tiles = tiles[..., ::dil_y, ::dil_x]
    summed = torch.tensordot(tiles, weight, dims=([1, 4, 5], [1, 2, 3]))
    summed = summed.permute(0, 3, 1, 2).contiguous()
    if bias is None:
        return summed
    return summed + bias.reshape(-1, 1, 1)
