"""Trusted reference for `padding_stride`: sizes measured on torch's own layers, and known mistakes.

The output sizes are not computed from a formula here: ``nn.Conv2d`` / ``nn.ConvTranspose2d`` run
on zeros with height ``n`` and width ``n + 1`` (H != W, so both axes are looked at), and the
receptive field is found by backpropagating a one-hot gradient through a stack of all-ones
``nn.Conv1d`` layers. ``None`` means torch refuses the arguments, so a ``ValueError`` is expected.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import contextlib
import functools
import math
import typing as t

import torch
from torch import nn


def _quick() -> t.ContextManager[None]:
    """No autograd, and no oneDNN: its set-up for each new shape costs milliseconds on tiny inputs."""
    stack = contextlib.ExitStack()
    stack.enter_context(torch.no_grad())
    stack.enter_context(torch.backends.mkldnn.flags(enabled=False))
    return stack


def _arguments_valid(n: int, kernel_size: int, stride: int, padding: int, dilation: int) -> bool:
    return n >= 1 and kernel_size >= 1 and stride >= 1 and padding >= 0 and dilation >= 1


def _conv2d_shape(h: int, w: int, kernel_size: int, stride: int, padding: int,
                  dilation: int) -> tuple[int, int] | None:
    """(H_out, W_out) of ``nn.Conv2d`` on a zero image of size (h, w), or None if torch refuses."""
    try:
        with _quick():
            layer = nn.Conv2d(1, 1, kernel_size, stride, padding, dilation, bias=False)
            out = layer(torch.zeros(1, 1, h, w))
    except RuntimeError:  # "Kernel size can't be greater than actual input size", ...
        return None
    return int(out.shape[-2]), int(out.shape[-1])


#: (n, kernel_size, stride, padding, dilation) -> measured output length (None: torch refuses)
_CONV_SIZES: dict[tuple[int, int, int, int, int], int | None] = {}


def conv_output_size_ref(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int | None:
    """The output length ``nn.Conv2d`` produces, or None when it refuses (ValueError expected).

    One run on an (n, n + 1) image measures n on the height and n + 1 on the width. The output
    grows with the input, so when torch refuses, it is n that is too short.
    """
    key = (n, kernel_size, stride, padding, dilation)
    if key not in _CONV_SIZES:
        shape = _conv2d_shape(n, n + 1, *key[1:]) if _arguments_valid(*key) else None
        _CONV_SIZES[key] = None if shape is None else shape[0]
        if shape is not None:
            _CONV_SIZES.setdefault((n + 1, *key[1:]), shape[1])
    return _CONV_SIZES[key]


@functools.cache
def same_padding_ref(kernel_size: int, dilation: int = 1) -> int | None:
    """The padding with which ``nn.Conv2d`` (stride 1) keeps both H and W, or None if there is none."""
    if kernel_size < 1 or dilation < 1:
        return None
    n = dilation * kernel_size + 8  # long enough for the unpadded kernel
    shape = _conv2d_shape(n, n + 1, kernel_size, 1, 0, dilation)
    assert shape is not None
    shrink = n - shape[0]
    if shrink % 2:
        return None
    padding = shrink // 2
    assert _conv2d_shape(n, n + 1, kernel_size, 1, padding, dilation) == (n, n + 1)
    return padding


@functools.cache
def conv_transpose_output_size_ref(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                                   output_padding: int = 0, dilation: int = 1) -> int | None:
    """The output length ``nn.ConvTranspose2d`` produces, or None when it refuses (ValueError expected)."""
    if not _arguments_valid(n, kernel_size, stride, padding, dilation) or output_padding < 0:
        return None
    try:
        with _quick():
            layer = nn.ConvTranspose2d(1, 1, kernel_size, stride, padding, output_padding, dilation=dilation,
                                       bias=False)
            out = layer(torch.zeros(1, 1, n, n + 1))
    except RuntimeError:  # "output padding must be smaller than either stride or dilation", size < 0, ...
        return None
    return int(out.shape[-2]) if out.shape[-2] >= 1 else None  # torch lets some empty outputs through


@functools.cache
def receptive_field_ref(layers: tuple[tuple[int, int], ...]) -> int | None:
    """The receptive field of a stack of ``nn.Conv1d`` layers, measured by backpropagation.

    All weights are ones, so one centre output's one-hot gradient reaches exactly the inputs it
    depends on, with a positive value. The receptive field is the width of the input window from
    the first to the last of them; that is their number, unless a layer has ``k < s`` and skips
    inputs inside the window.
    """
    if any(k < 1 or s < 1 for k, s in layers):
        return None
    # An input long enough that the output has a few positions (the field is at most `span` wide).
    span = 1 + sum(k for k, _ in layers) * math.prod(s for _, s in layers)
    x = torch.zeros(1, 1, 2 * span + 1, dtype=torch.float64, requires_grad=True)
    out = x
    with torch.backends.mkldnn.flags(enabled=False):
        for k, s in layers:
            conv = nn.Conv1d(1, 1, k, s, bias=False, dtype=torch.float64)
            with torch.no_grad():
                conv.weight.fill_(1.0)
            out = conv(out)
        # Backward from the centre output alone: a one-hot output gradient. (A scalar, so that
        # `backward` needs no explicit gradient tensor, whose shape check imports sympy: slow.)
        out[0, 0, out.shape[-1] // 2].backward()
    assert x.grad is not None
    reached = (x.grad[0, 0] != 0).nonzero().flatten()
    if all(k >= s for k, s in layers):
        assert len(reached) == int(reached[-1] - reached[0]) + 1  # no gaps: the count is the width
    return int(reached[-1] - reached[0]) + 1


# -- known mistakes: what a wrong implementation returns, keyed by the description the student sees --

def conv_mistakes(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> dict[str, int]:
    eff = d * (k - 1) + 1
    return {
        "the padding is counted once (p instead of 2*p: it goes on both sides)": (n + p - eff) // s + 1,
        "the division is rounded up (ceil instead of floor)": -(-(n + 2 * p - eff) // s) + 1,
        "the dilation is ignored (the effective kernel size is d*(k - 1) + 1)": (n + 2 * p - k) // s + 1,
        "the effective kernel size is taken as d*k instead of d*(k - 1) + 1": (n + 2 * p - d * k) // s + 1,
        "the stride is ignored": n + 2 * p - eff + 1,
        # ((n + 2p - eff) + 1) // s is wrong exactly when it equals this, so one hint serves both
        "the + 1 for the first window is missing, or it is inside the division (it comes after the //)":
            (n + 2 * p - eff) // s,
        "the division is rounded to the nearest integer (floor it)": round((n + 2 * p - eff) / s) + 1,
    }


def same_padding_mistakes(k: int, d: int = 1) -> dict[str, int]:
    return {
        "the dilation is ignored (the effective kernel size is d*(k - 1) + 1)": (k - 1) // 2,
        "the effective kernel size is taken as d*k instead of d*(k - 1) + 1": d * k // 2,
        "the padding for both sides together is returned (k_eff - 1 instead of (k_eff - 1) // 2)": d * (k - 1),
    }


def transpose_mistakes(n: int, k: int, s: int = 1, p: int = 0, op: int = 0, d: int = 1) -> dict[str, int]:
    right = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    return {
        "output_padding is ignored": right - op,
        "the padding is subtracted once (p instead of 2*p)": right + p,
        "the dilation is ignored": right - (d - 1) * (k - 1),
        "n*s is used instead of (n - 1)*s": right + s,
        "the padding is added instead of subtracted": right + 4 * p,
        "output_padding is counted twice": right + op,
    }


def receptive_field_mistakes(layers: t.Sequence[tuple[int, int]]) -> dict[str, int]:
    ks = [k for k, _ in layers]
    ss = [s for _, s in layers]
    own = 1 + sum((k - 1) * math.prod(ss[: i + 1]) for i, k in enumerate(ks))
    rev = 1 + sum((k - 1) * math.prod(ss[i + 1:]) for i, k in enumerate(ks))
    return {
        "the strides are ignored": 1 + sum(k - 1 for k in ks),
        "a layer's own stride is in the product (only the strides of the layers before it count)": own,
        "the layers are taken in reverse order (the first layer is the one next to the input)": rev,
        "the kernel sizes are added up (k instead of k - 1 per layer)": 1 + sum(k * math.prod(ss[:i])
                                                                              for i, k in enumerate(ks)),
    }
