"""Trusted reference for `conv`: torch's own conv2d in float64, and the results of known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t

import torch
import torch.nn.functional as F


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_ref(x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None = None,
               stride: t.Any = 1, padding: t.Any = 0, dilation: t.Any = 1) -> torch.Tensor:
    """``F.conv2d`` computed in float64 on the CPU."""
    b = None if bias is None else bias.detach().cpu().double()
    return F.conv2d(x.detach().cpu().double(), w.detach().cpu().double(), b, _pair(stride), _pair(padding),
                    _pair(dilation))


def mistakes(x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None = None, stride: t.Any = 1,
             padding: t.Any = 0, dilation: t.Any = 1) -> dict[str, t.Callable[[], torch.Tensor]]:
    """What typical wrong implementations return, keyed by the description the student sees."""
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    c = x.shape[1]
    out: dict[str, t.Callable[[], torch.Tensor]] = {
        "the kernel is flipped: that is a true convolution, but conv2d is a cross-correlation":
            lambda: conv2d_ref(x, w.flip(-2, -1), bias, s, p, d),
        "the input channels are averaged instead of summed":
            lambda: conv2d_ref(x, w / c, bias, s, p, d),
        "the padding is added on one side only (it belongs on both sides)":
            lambda: conv2d_ref(F.pad(x, (0, 2 * p[1], 0, 2 * p[0])), w, bias, s, 0, d),
        "the dilation is ignored": lambda: conv2d_ref(x, w, bias, s, p, 1),
        "the stride is ignored": lambda: conv2d_ref(x, w, bias, 1, p, d),
    }
    if (s, p, d) != (s[::-1], p[::-1], d[::-1]):
        out["height and width of stride/padding/dilation are swapped"] = \
            lambda: conv2d_ref(x, w, bias, s[::-1], p[::-1], d[::-1])
    if bias is not None:
        out["the bias is not added"] = lambda: conv2d_ref(x, w, None, s, p, d)
    return out
