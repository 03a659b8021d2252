"""Trusted reference for `batchnorm`: torch.nn.BatchNorm2d in float64, and known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t

import torch
from torch import nn

from grader.testing import precision_hints
from reference.conv.reference import torch_names

Hints = dict[str, t.Callable[[], torch.Tensor]]

#: The batch norms the exercise names (EXERCISES.md, the stub); the gate's message lists these.
FORBIDDEN = ["torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm",
             "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d", "torch.nn.LazyBatchNorm2d",
             "torch.nn.SyncBatchNorm", "torch.nn.modules.batchnorm._BatchNorm",
             "torch.nn.modules.batchnorm._NormBase", "torch.nn.functional.instance_norm", "torch.instance_norm",
             "torch.nn.InstanceNorm2d", "torch.cudnn_batch_norm"]
#: Every other batch or instance norm torch has (aten kernels such as _native_batch_norm_legit, the
#: lazy and sync layers, their private bases): each computes the layer, so each is a way around the rule.
EVERY_BATCH_NORM = torch_names(r"batch_?norm|instance_?norm|normbase")
#: fastai's BatchNorm wraps torch's; fastai has no business in this exercise.
FORBIDDEN_MODULES = ["fastai", "fasttransform"]


def f64(x: torch.Tensor) -> torch.Tensor:
    """A float64 CPU copy of ``x`` (detached)."""
    return x.detach().to("cpu", torch.float64)


def reference_layer(num_features: int, **options: t.Any) -> nn.BatchNorm2d:
    """PyTorch's layer in float64 on the CPU (the trusted twin of the student's layer)."""
    return nn.BatchNorm2d(num_features, **options).double()


def _bn(x, running_mean, running_var, weight, bias, *, training=True, momentum=0.1, eps=1e-5, dims=(0, 2, 3),
        unbiased_norm=False, biased_running=False, eps_outside=False, swapped_momentum=False):
    """A float64 BatchNorm with one knob per known mistake; returns (y, new running mean, new running var)."""
    x = f64(x)
    shape = (1, -1, 1, 1)
    rm, rv = f64(running_mean), f64(running_var)
    if training:
        mean = x.mean(dim=dims, keepdim=True)
        var_b = (x - mean).pow(2).mean(dim=dims, keepdim=True)
        n = x.numel() // x.shape[1] if dims == (0, 2, 3) else x.shape[2] * x.shape[3]
        var_u = var_b * n / (n - 1)
        var = var_u if unbiased_norm else var_b
        bm, bv = mean.mean(dim=(0, 2, 3)), (var_b if biased_running else var_u).mean(dim=(0, 2, 3))
        m = 1 - momentum if swapped_momentum else momentum
        new_rm, new_rv = (1 - m) * rm + m * bm, (1 - m) * rv + m * bv
    else:
        mean, var = rm.view(shape), rv.view(shape)
        new_rm, new_rv = rm, rv
    scale = 1 / (var.sqrt() + eps) if eps_outside else 1 / (var + eps).sqrt()
    y = (x - mean) * scale * f64(weight).view(shape) + f64(bias).view(shape)
    return y, new_rm, new_rv


def output_mistakes(x, running_mean, running_var, weight, bias, *, training, momentum, eps) -> Hints:
    """Wrong outputs of one forward pass, keyed by the text the student sees after "It looks like"."""
    args = (x, running_mean, running_var, weight, bias)
    kw = dict(momentum=momentum, eps=eps)
    out: Hints = {}
    if training:
        out.update({
            "the unbiased variance (divide by n - 1) was used to normalise; normalising uses the biased "
            "one (divide by n), only running_var gets the unbiased estimate":
                lambda: _bn(*args, unbiased_norm=True, **kw)[0],
            "eps was added outside the square root: it belongs inside, sqrt(var + eps)":
                lambda: _bn(*args, eps_outside=True, **kw)[0],
            "the statistics were taken per image (over H and W only); batch norm averages over N, H and W":
                lambda: _bn(*args, dims=(2, 3), **kw)[0],
            "the batch statistics were ignored in training mode (the running statistics were used)":
                lambda: _bn(*args, training=False, **kw)[0],
        })
    else:
        out["evaluation mode still normalised with the batch's own statistics; it must use running_mean and "
            "running_var"] = lambda: _bn(*args, training=True, **kw)[0]
        out["eps was added outside the square root: it belongs inside, sqrt(var + eps)"] = \
            lambda: _bn(*args, training=False, eps_outside=True, **kw)[0]
    out["weight and bias were not applied (or swapped)"] = \
        lambda: _bn(x, running_mean, running_var, torch.ones_like(weight), torch.zeros_like(bias),
                    training=training, **kw)[0]
    if eps != 1e-5:
        out["eps is fixed at 1e-5 instead of the layer's eps"] = \
            lambda: _bn(*args, training=training, momentum=momentum, eps=1e-5)[0]
    return out


def running_mistakes(x, running_mean, running_var, *, momentum, which: int) -> Hints:
    """Wrong running statistics after one training step (``which``: 1 mean, 2 var)."""
    ones = torch.ones(x.shape[1], dtype=torch.float64)
    args = (x, running_mean, running_var, ones, 0 * ones)
    out: Hints = {
        "the momentum is applied the wrong way round: PyTorch's convention is "
        "new = (1 - momentum) * old + momentum * batch":
            lambda: _bn(*args, momentum=momentum, swapped_momentum=True)[which],
    }
    if which == 2:
        out["running_var was updated with the biased variance; it needs the unbiased one (n / (n - 1))"] = \
            lambda: _bn(*args, momentum=momentum, biased_running=True)[2]
    out["the running statistics were not updated"] = lambda: f64((running_mean, running_var)[which - 1])
    return out


# Hints without those too close to the right answer, plus "computed in lower precision" for float64.
with_precision = precision_hints
