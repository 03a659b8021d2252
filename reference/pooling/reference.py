"""Trusted reference for `pooling`: torch's pooling (and fastai's concat pool) in float64.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t
import warnings

import torch
import torch.nn.functional as F

from reference.conv.reference import torch_names

Hints = dict[str, t.Callable[[], torch.Tensor]]

#: The poolings the exercise names (EXERCISES.md, the stub); the gate's message lists these.
FORBIDDEN = [
    "torch.nn.functional.max_pool1d", "torch.nn.functional.max_pool2d", "torch.nn.functional.max_pool3d",
    "torch.nn.functional.max_pool2d_with_indices", "torch.nn.functional.avg_pool1d",
    "torch.nn.functional.avg_pool2d", "torch.nn.functional.avg_pool3d", "torch.nn.functional.adaptive_avg_pool1d",
    "torch.nn.functional.adaptive_avg_pool2d", "torch.nn.functional.adaptive_max_pool1d",
    "torch.nn.functional.adaptive_max_pool2d", "torch.nn.functional.adaptive_max_pool2d_with_indices",
    "torch.nn.functional.lp_pool2d", "torch.nn.functional.fractional_max_pool2d",
    "torch.nn.MaxPool2d", "torch.nn.AvgPool2d", "torch.nn.AdaptiveAvgPool2d", "torch.nn.AdaptiveMaxPool2d",
    "torch.nn.LPPool2d", "torch.nn.FractionalMaxPool2d", "torch.max_pool2d", "torch.max_pool1d",
    "torch.avg_pool1d", "torch.adaptive_avg_pool1d", "torch.adaptive_max_pool1d",
    "torch.max_pool1d_with_indices", "torch.quantized_max_pool2d", "torch._C._nn.avg_pool2d",
    "torch._C._nn.adaptive_avg_pool2d", "fastai.layers.AdaptiveConcatPool2d",
]
#: Every other pooling torch has (3d and 1d versions, aten kernels such as _adaptive_avg_pool2d,
#: private bases such as _MaxPoolNd): each computes a pooling, so each is a way around the rule.
#: (Unpooling is not pooling.)
EVERY_POOLING = torch_names(r"pool", exclude=r"unpool")
#: fastai is the reference of AdaptiveConcatPool2d; it has no business in this exercise.
FORBIDDEN_MODULES = ["fastai", "fasttransform"]


def pair(v: t.Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def f64(x: torch.Tensor) -> torch.Tensor:
    return x.detach().cpu().double()


def max_pool_ref(x: torch.Tensor, kernel_size: t.Any, stride: t.Any = None, padding: t.Any = 0) -> torch.Tensor:
    return F.max_pool2d(f64(x), pair(kernel_size), None if stride is None else pair(stride), pair(padding))


def avg_pool_ref(x: torch.Tensor, kernel_size: t.Any, stride: t.Any = None, padding: t.Any = 0,
                 count_include_pad: bool = True) -> torch.Tensor:
    return F.avg_pool2d(f64(x), pair(kernel_size), None if stride is None else pair(stride), pair(padding),
                        count_include_pad=count_include_pad)


def adaptive_avg_ref(x: torch.Tensor, output_size: t.Any) -> torch.Tensor:
    return F.adaptive_avg_pool2d(f64(x), pair(output_size))


def concat_pool_ref(x: torch.Tensor, size: t.Any = None) -> torch.Tensor:
    """fastai's ``AdaptiveConcatPool2d`` itself (imported here, lazily: it costs a second)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastai.layers import AdaptiveConcatPool2d
    return AdaptiveConcatPool2d(size)(f64(x))


# -- known mistakes ---------------------------------------------------------------------------------

def _floor_edges(size: int, out: int) -> list[tuple[int, int]]:
    return [(i * size // out, (i + 1) * size // out) for i in range(out)]


def _adaptive_by_edges(x: torch.Tensor, output_size: t.Any, edges: t.Callable[[int, int], list[tuple[int, int]]],
                       reduce: str = "mean") -> torch.Tensor:
    oh, ow = pair(output_size)
    x = f64(x)
    out = torch.empty(*x.shape[:-2], oh, ow, dtype=torch.float64)
    for i, (hs, he) in enumerate(edges(x.shape[-2], oh)):
        for j, (ws, we) in enumerate(edges(x.shape[-1], ow)):
            window = x[..., hs:he, ws:we]
            out[..., i, j] = window.mean((-2, -1)) if reduce == "mean" else window.amax((-2, -1))
    return out


def _zero_padded_max(x: torch.Tensor, kernel_size: t.Any, stride: t.Any, padding: t.Any) -> torch.Tensor:
    ph, pw = pair(padding)
    return max_pool_ref(F.pad(f64(x), (pw, pw, ph, ph)), kernel_size, stride, 0)


def max_mistakes(x: torch.Tensor, kernel_size: t.Any, stride: t.Any = None, padding: t.Any = 0) -> Hints:
    k, p = pair(kernel_size), pair(padding)
    s = k if stride is None else pair(stride)
    out: Hints = {}
    if stride is None and k != (1, 1):
        out["stride=None was taken as stride 1; it means stride = kernel_size"] = \
            lambda: max_pool_ref(x, k, 1, p)
    if p != (0, 0):
        out["the padding is zeros; max pooling pads with -inf, so a padded position never wins"] = \
            lambda: _zero_padded_max(x, k, s, p)
    if k != k[::-1] or s != s[::-1] or p != p[::-1]:
        out["height and width of kernel_size/stride/padding are swapped"] = \
            lambda: max_pool_ref(x, k[::-1], s[::-1], p[::-1])
    if k[0] != k[1]:
        out["the kernel was taken as square (kH used for both axes)"] = lambda: max_pool_ref(x, k[0], s, p)
    return out


def avg_mistakes(x: torch.Tensor, kernel_size: t.Any, stride: t.Any = None, padding: t.Any = 0,
                 count_include_pad: bool = True) -> Hints:
    k, p = pair(kernel_size), pair(padding)
    s = k if stride is None else pair(stride)
    out: Hints = {}
    if stride is None and k != (1, 1):
        out["stride=None was taken as stride 1; it means stride = kernel_size"] = \
            lambda: avg_pool_ref(x, k, 1, p, count_include_pad)
    if p != (0, 0):
        if count_include_pad:
            out["the padded positions are left out of the divisor, but count_include_pad=True counts them"] = \
                lambda: avg_pool_ref(x, k, s, p, False)
        else:
            out["count_include_pad=False is ignored: the divisor must count only the real positions"] = \
                lambda: avg_pool_ref(x, k, s, p, True)
    if k != k[::-1] or s != s[::-1] or p != p[::-1]:
        out["height and width of kernel_size/stride/padding are swapped"] = \
            lambda: avg_pool_ref(x, k[::-1], s[::-1], p[::-1], count_include_pad)
    if k[0] != k[1]:
        out["the kernel was taken as square (kH used for both axes)"] = \
            lambda: avg_pool_ref(x, k[0], s, p, count_include_pad)
    return out


def adaptive_mistakes(x: torch.Tensor, output_size: t.Any) -> Hints:
    o = pair(output_size)
    h, w = x.shape[-2:]
    out: Hints = {
        "the bin ends are rounded down (floor); end = ceil((i + 1) * H / out)":
            lambda: _adaptive_by_edges(x, o, _floor_edges),
    }
    if h >= o[0] and w >= o[1]:
        out["fixed windows of H // out were used (like avg_pool2d); adaptive bins start at floor(i*H/out) " \
            "and end at ceil((i+1)*H/out)"] = \
            lambda: avg_pool_ref(x, (h // o[0], w // o[1]))
    if o != o[::-1]:
        out["height and width of output_size are swapped"] = lambda: adaptive_avg_ref(x, o[::-1])
    return out


def concat_mistakes(x: torch.Tensor, size: t.Any = None) -> Hints:
    o = pair(size or 1)
    return {
        "the average comes first; AdaptiveConcatPool2d puts the max first, then the average":
            lambda: torch.cat([adaptive_avg_ref(x, o), F.adaptive_max_pool2d(f64(x), o)], 1),
        "the size argument is ignored (always 1)":
            lambda: torch.cat([F.adaptive_max_pool2d(f64(x), 1), adaptive_avg_ref(x, 1)], 1),
        "the two poolings are concatenated on the batch axis (dim 0) instead of the channels (dim 1)":
            lambda: torch.cat([F.adaptive_max_pool2d(f64(x), o), adaptive_avg_ref(x, o)], 0),
        "the bin ends are rounded down (floor); end = ceil((i + 1) * H / out)":
            lambda: torch.cat([_adaptive_by_edges(x, o, _floor_edges, "max"),
                               _adaptive_by_edges(x, o, _floor_edges)], 1),
    }


def precision_hints(x: torch.Tensor, reference: t.Callable[[torch.Tensor], torch.Tensor]) -> Hints:
    """For a float64 input: the result of the same pooling on the input rounded to float32."""
    if x.dtype != torch.float64:
        return {}
    return {"the float64 input was computed in float32 (or lower) precision and cast back; compute in the "
            "input's dtype": lambda: reference(x.float())}
