"""Trusted reference for `conv`: torch's own conv2d in float64, and the results of known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import functools
import importlib
import re
import typing as t

import torch
import torch.nn.functional as F


#: Where torch keeps its operations: the public modules, the C bindings behind them and the
#: modules that define the layer classes (with their private bases such as ``_ConvNd``).
TORCH_NAMESPACES = ("torch", "torch.nn", "torch.nn.functional", "torch._C._nn", "torch._C._VariableFunctions",
                    "torch.nn.grad", "torch.nn.modules.conv", "torch.nn.modules.pooling",
                    "torch.nn.modules.batchnorm", "torch.nn.modules.instancenorm")


def torch_names(pattern: str, exclude: str | None = None) -> list[str]:
    """Every torch function, class and aten op whose name matches ``pattern`` (case-insensitive).

    For a from-scratch rule: the source scan matches the last part of a dotted name on anything
    reached from ``torch``, so ``torch.conv3d`` also stands for ``torch.ops.aten.conv3d`` and
    ``torch._C._VariableFunctions.conv3d``. Listing every name, not only the documented ones,
    closes routes such as ``torch.conv3d`` on a one-deep volume or ``torch.ops.aten._convolution``.
    Names that also match ``exclude`` are left out (``_convert_indices_from_coo_to_csr`` is no
    convolution).
    """
    def keep(name: str) -> bool:
        return bool(re.search(pattern, name, re.I)) and not (exclude and re.search(exclude, name, re.I))

    found: dict[str, str] = {}
    for namespace in TORCH_NAMESPACES:
        if "._C." not in namespace:
            importlib.import_module(namespace)
        module = functools.reduce(getattr, namespace.split(".")[1:], torch)
        for name in dir(module):
            if keep(name) and not name.startswith("__"):
                found.setdefault(name, f"{namespace}.{name}")
    for op in torch._C._dispatch_get_all_op_names():  # "aten::conv2d", "aten::_convolution.deprecated"
        if op.startswith("aten::"):
            name = op[len("aten::"):].split(".", 1)[0]
            if keep(name):
                found.setdefault(name, f"torch.ops.aten.{name}")
    return sorted(found.values())


# -- the from-scratch rule ----------------------------------------------------------------------

#: The convolutions the exercise names (EXERCISES.md); the gate's message lists these.
FORBIDDEN = ["torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d", "torch.convolution",
             "torch._convolution", "torch.nn.functional.conv_transpose1d", "torch.nn.functional.conv_transpose2d",
             "torch.nn.functional.conv_transpose3d", "torch.nn.ConvTranspose2d"]
#: Every other convolution torch has (conv1d/conv3d, cudnn/mkldnn/slow kernels, aten ops, _ConvNd):
#: each computes a conv2d after a reshape, so each is a way around the rule.
EVERY_CONVOLUTION = torch_names(r"conv", exclude=r"convert")
#: fastai wraps torch's convolution (``ConvLayer``); it has no business in this exercise.
FORBIDDEN_MODULES = ["fastai", "fasttransform"]


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
