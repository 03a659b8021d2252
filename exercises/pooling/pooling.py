"""Pooling from scratch / Pooling (Zusammenfassen) von Grund auf.

A pooling layer summarises every small window of a feature map by one number: the largest value
(*max pooling*, Maximum-Pooling) or the mean (*average pooling*, Mittelwert-Pooling). It has no
weights; it makes the map smaller and a little insensitive to small shifts. Each channel is
pooled on its own, so the channel count stays the same.

For ``x`` of shape ``(N, C, H, W)``, a kernel ``(kH, kW)``, a stride ``(sH, sW)`` and a padding
``(pH, pW)``::

    out[n, c, i, j] = max / mean of xp[n, c, i*sH : i*sH + kH, j*sW : j*sW + kW]

    H_out = floor((H + 2*pH - kH) / sH) + 1          (the same for W)

where ``xp`` is ``x`` padded by ``pH`` rows at the top *and* the bottom and ``pW`` columns at
the left *and* the right. Conventions (the same as ``torch.nn.functional``; the checks enforce
all of them):

* ``kernel_size``, ``stride``, ``padding`` and ``output_size`` are an ``int`` (the same for
  height and width) or a ``(height, width)`` tuple. Inputs are not square (H != W), kernels
  neither (kH != kW): don't mix the axes up.
* ``stride=None`` (the default) means *stride = kernel size*: windows that touch but do not
  overlap. It does not mean stride 1.
* Max pooling pads with ``-inf``: a padded position never wins, not even against negative
  numbers. (Padding with zeros would make 0 the maximum of a window of negative values.)
* Average pooling pads with zeros. With ``count_include_pad=True`` (the default) every window
  is divided by ``kH*kW``; with ``count_include_pad=False`` only by the number of real (not
  padded) positions in the window.
* The padding is at most half the kernel (``p <= k // 2``, as torch requires), so every window
  holds at least one real position. No ``ceil_mode``, no dilation.
* Adaptive pooling (adaptives Pooling) takes the output size instead of a kernel. Output row
  ``i`` of ``out_h`` averages the input rows ``start:end`` with
  ``start = floor(i * H / out_h)`` and ``end = ceil((i + 1) * H / out_h)``, and the same for
  columns. When ``out_h`` does not divide ``H`` the windows differ in size and may overlap.
* The result has the dtype and device of ``x`` (float32 in, float32 out; float64 in, float64
  out): compute in the input's dtype, never in float16/bfloat16 or float32 for a float64 input.
* Gradients must flow as through torch's pooling: build the result with differentiable tensor
  operations (no ``.item()``, ``.tolist()``, numpy or ``.detach()``). Max pooling sends the
  gradient of each window to the position of its maximum.

Forbidden here (from scratch): every built-in pooling, e.g. ``F.max_pool2d``, ``F.avg_pool2d``,
``F.adaptive_avg_pool2d``, ``F.adaptive_max_pool2d``, ``nn.MaxPool2d``, ``nn.AvgPool2d``,
``nn.AdaptiveAvgPool2d``, ``nn.AdaptiveMaxPool2d``, ``torch.max_pool2d``, and fastai's
``AdaptiveConcatPool2d`` (no fastai at all): using one voids all points of this exercise.
Allowed: ``F.pad``, ``Tensor.unfold``, ``F.unfold``, slicing, ``max``/``amax``, ``sum``,
``mean``, ``torch.stack``, ``torch.cat``, loops over output positions.
"""

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
    """All ``kH x kW`` windows of ``x`` (N, C, H, W) as a tensor (N, C, H_out, W_out, kH*kW).

    Hint: ``x.unfold(dim, size, step)`` cuts dimension ``dim`` into windows of ``size`` every
    ``step`` positions and appends the window as a new last dimension. Unfold the height, then
    the width, then flatten the two window dimensions.
    """
    # TODO: your code here
    raise NotImplementedError("_windows: not implemented yet (exercise pooling)")


def max_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """Max pooling of ``x`` (N, C, H, W): the largest value of every window.

    ``stride=None`` means stride = ``kernel_size``. The padding is ``-inf`` (it never wins).
    Returns (N, C, H_out, W_out) with the dtype and device of ``x``.
    """
    # TODO: your code here
    raise NotImplementedError("max_pool2d: not implemented yet (exercise pooling)")


def avg_pool2d(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0, count_include_pad: bool = True) -> torch.Tensor:
    """Average pooling of ``x`` (N, C, H, W): the mean of every window.

    ``stride=None`` means stride = ``kernel_size``. The padding is zeros; ``count_include_pad``
    decides whether the padded positions count in the divisor (True: divide by kH*kW; False:
    divide by the number of real positions in the window).
    Returns (N, C, H_out, W_out) with the dtype and device of ``x``.

    Hint for ``count_include_pad=False``: pool a tensor of ones, padded with zeros, the same way;
    its window sums are the counts.
    """
    # TODO: your code here
    raise NotImplementedError("avg_pool2d: not implemented yet (exercise pooling)")


def _bin_edges(size: int, out: int) -> list[tuple[int, int]]:
    """The ``out`` windows ``(start, end)`` adaptive pooling uses along an axis of length ``size``.

    ``start = floor(i * size / out)``, ``end = ceil((i + 1) * size / out)`` for ``i`` in
    ``range(out)``. Example: ``_bin_edges(7, 3) == [(0, 3), (2, 5), (4, 7)]``.
    Hint: with integers, ``ceil(a / b) == -((-a) // b)``.
    """
    # TODO: your code here
    raise NotImplementedError("_bin_edges: not implemented yet (exercise pooling)")


def adaptive_avg_pool2d(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Adaptive average pooling of ``x`` (N, C, H, W) to ``output_size`` (int or (out_h, out_w)).

    Output cell ``(i, j)`` is the mean of the input rows of bin ``i`` and the columns of bin ``j``
    (see ``_bin_edges``). Returns (N, C, out_h, out_w) with the dtype and device of ``x``.

    Hint: the windows are rectangles, so you can average the rows of each row bin first
    (giving (N, C, out_h, W)), then the columns of each column bin; ``torch.stack`` the pieces.
    """
    # TODO: your code here
    raise NotImplementedError("adaptive_avg_pool2d: not implemented yet (exercise pooling)")


def _adaptive_max_pool2d(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Adaptive max pooling: like ``adaptive_avg_pool2d`` with the maximum instead of the mean."""
    # TODO: your code here
    raise NotImplementedError("_adaptive_max_pool2d: not implemented yet (exercise pooling)")


class AdaptiveConcatPool2d(nn.Module):
    """Adaptive max pooling and adaptive average pooling, concatenated on the channel axis.

    ``AdaptiveConcatPool2d(size)(x)`` for ``x`` (N, C, H, W) is
    ``torch.cat([adaptive max pool of x, adaptive avg pool of x], dim=1)``: shape
    (N, 2*C, out_h, out_w), **max first**, then average (as fastai's ``AdaptiveConcatPool2d``,
    which heads of fastai's CNN learners use: the head sees both the strongest and the mean
    activation of every channel). ``size`` is an int or an (out_h, out_w) tuple; ``None`` means 1.
    """

    def __init__(self, size: int | tuple[int, int] | None = 1) -> None:
        super().__init__()
        self.size = size or 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: your code here
        raise NotImplementedError("forward: not implemented yet (exercise pooling)")
