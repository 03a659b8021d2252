"""Trusted implementation of the `pooling` API for scenarios: torch's pooling and fastai's concat pool."""

from __future__ import annotations

import typing as t
import warnings

import torch
import torch.nn.functional as F


def max_pool2d(x: torch.Tensor, kernel_size: t.Any, stride: t.Any = None, padding: t.Any = 0) -> torch.Tensor:
    return F.max_pool2d(x, kernel_size, stride, padding)


def avg_pool2d(x: torch.Tensor, kernel_size: t.Any, stride: t.Any = None, padding: t.Any = 0,
               count_include_pad: bool = True) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size, stride, padding, count_include_pad=count_include_pad)


def adaptive_avg_pool2d(x: torch.Tensor, output_size: t.Any) -> torch.Tensor:
    return F.adaptive_avg_pool2d(x, output_size)


def AdaptiveConcatPool2d(size: t.Any = 1) -> torch.nn.Module:  # noqa: N802 - the API's class name
    """fastai's own class (imported on first use: fastai costs a second to import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastai.layers import AdaptiveConcatPool2d as FastaiConcatPool

    return FastaiConcatPool(size)
