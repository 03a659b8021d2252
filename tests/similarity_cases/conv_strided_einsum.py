"""2D convolution from scratch / 2D-Faltung von Grund auf (student: strided windows and einsum)."""

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
    s = _pair(stride)
    p = _pair(padding)
    d = _pair(dilation)
    xp = F.pad(x, (p[1], p[1], p[0], p[0])).contiguous()
    N, C, H, W = xp.shape
    KH, KW = weight.shape[2:]
    OH = (H - d[0] * (KH - 1) - 1) // s[0] + 1
    OW = (W - d[1] * (KW - 1) - 1) // s[1] + 1
    sn, sc, sy, sx = xp.stride()
    # a view, no copy: windows[n, c, i, j, a, b] = xp[n, c, i*s0 + a*d0, j*s1 + b*d1]
    windows = xp.as_strided((N, C, OH, OW, KH, KW), (sn, sc, sy * s[0], sx * s[1], sy * d[0], sx * d[1]))
    y = torch.einsum("ncijab,ocab->noij", windows, weight)
    return y if bias is None else y + bias[None, :, None, None]
