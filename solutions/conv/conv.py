"""2D convolution from scratch / 2D-Faltung von Grund auf.

A convolutional layer slides a small kernel over the image and, at every position, takes the dot
product of the kernel with the patch under it. PyTorch's ``conv2d`` is really a
*cross-correlation*: the kernel is **not** flipped.

For input ``x`` of shape ``(N, C, H, W)`` and weight ``w`` of shape ``(O, C, kH, kW)``::

    out[n, o, i, j] = bias[o] + sum_{c, a, b} w[o, c, a, b] * xp[n, c, i*sH + a*dH, j*sW + b*dW]

where ``xp`` is ``x`` zero-padded by ``pH`` rows at the top *and* bottom and ``pW`` columns at the
left *and* right. The output has shape ``(N, O, H_out, W_out)`` with::

    H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1     (same for W)

Forbidden here: ``F.conv2d``, ``torch.conv2d``, ``nn.Conv2d``, ``torch.convolution``, the
transposed convolutions and every other built-in convolution (``conv1d``, ``conv3d``, the ops under
``torch.ops.aten``, ...): using one voids all points of this exercise. Allowed: ``F.pad``,
``F.unfold``, ``Tensor.unfold``, ``as_strided``, ``einsum``, plain loops.
"""

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
    """Cross-correlate ``x`` (N, C, H, W) with ``weight`` (O, C, kH, kW); add ``bias`` (O,).

    Returns a tensor of shape (N, O, H_out, W_out) with the dtype and device of ``x``.

    Hint: ``F.unfold(x, (kH, kW), dilation, padding, stride)`` cuts every patch out as a column
    of shape (C*kH*kW); then the convolution is one matrix product with ``weight.view(O, -1)``.
    """
    # BEGIN SOLUTION
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, _, h, w = x.shape
    o, _, kh, kw = weight.shape
    h_out = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    cols = F.unfold(x, (kh, kw), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))  # (N, C*kH*kW, L)
    out = weight.reshape(o, -1) @ cols  # (N, O, L)
    out = out.reshape(n, o, h_out, w_out)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out
    # END SOLUTION
