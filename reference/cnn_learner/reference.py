"""Trusted helpers for `cnn_learner`'s hidden checks: comparing layer lists, random weights for
fastai's head, and the outputs of known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import torch
from torch import nn

from grader.testing import fail
from grader.scenarios import load_scenario_file

SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "cnn_learner" / "scenarios.py"


def scenarios() -> t.Any:
    """The public scenarios module (the small model builders), loaded in this process."""
    return load_scenario_file(SCENARIOS)


def random_state(state: t.Mapping[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """New values for every floating-point entry of ``state`` (same names, shapes and dtypes), as
    :func:`randomize_` draws them: positive running variances, BatchNorm scales near 1."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, v in sorted(state.items()):
        if not v.is_floating_point():
            out[name] = v.detach().clone()
            continue
        if name.endswith("running_var"):
            new = 0.5 + torch.rand(v.shape, generator=g, dtype=torch.float64)
        elif v.dim() >= 2:
            new = torch.randn(v.shape, generator=g, dtype=torch.float64) / max(1, v[0].numel()) ** 0.5
        elif name.endswith("weight"):
            new = 1.0 + 0.3 * torch.randn(v.shape, generator=g, dtype=torch.float64)
        else:
            new = 0.3 * torch.randn(v.shape, generator=g, dtype=torch.float64)
        out[name] = new.to(v.dtype)
    return out

#: Settings compared per layer (when fastai's layer has them), with how the message names them.
SETTINGS = {"p": "dropout probability", "eps": "eps", "momentum": "momentum", "in_features": "in_features",
            "out_features": "out_features", "num_features": "num_features", "affine": "affine",
            "track_running_stats": "track_running_stats", "output_size": "output_size"}


def compare_layers(got: t.Any, want: list[dict[str, t.Any]], what: str) -> None:
    """Fail with the first difference between two ``scenarios.layer_info`` lists."""
    __tracebackhide__ = True
    if not isinstance(got, list) or not all(isinstance(g, dict) for g in got):
        fail(f"{what}: the layers could not be read (is it an nn.Sequential?).")
    got_types = [g.get("type") for g in got]
    want_types = [w["type"] for w in want]
    for i, (g, w) in enumerate(zip(got_types, want_types)):
        if g != w:
            fail(f"{what}: layer {i} is a {g}, but fastai has a {w} there. Your layers: {', '.join(map(str, got_types))}.")
    if len(got_types) != len(want_types):
        fail(f"{what} has {len(got_types)} layers, fastai's has {len(want_types)}. "
             f"Your layers: {', '.join(map(str, got_types))}.")
    for i, (g, w) in enumerate(zip(got, want)):
        if g.get("params") != w["params"]:
            fail(f"{what}: the parameters of layer {i} ({w['type']}) are {g.get('params')}, which differs from "
                 "fastai's (names/shapes; a Linear after a BatchNorm has no bias).")
        for key, name in SETTINGS.items():
            if key in w and g.get(key) != w[key]:
                fail(f"{what}: layer {i} ({w['type']}) has {name} {g.get(key)!r}, which differs from fastai's.")


def randomize_(module: nn.Module, seed: int, dtype: torch.dtype = torch.float32) -> nn.Module:
    """Random weights and BatchNorm statistics (positive variances) from ``seed``, in ``dtype``."""
    g = torch.Generator().manual_seed(seed)
    module.to(dtype)
    with torch.no_grad():
        for name, v in sorted(module.state_dict().items()):
            if not v.is_floating_point():
                continue
            if name.endswith("running_var"):
                new = 0.5 + torch.rand(v.shape, generator=g, dtype=torch.float64)
            elif v.dim() >= 2:
                new = torch.randn(v.shape, generator=g, dtype=torch.float64) / v[0].numel() ** 0.5
            elif name.endswith("weight"):
                new = 1.0 + 0.3 * torch.randn(v.shape, generator=g, dtype=torch.float64)
            else:
                new = 0.3 * torch.randn(v.shape, generator=g, dtype=torch.float64)
            v.copy_(new.to(v.dtype))
    return module


def concat_pool_ref(x: torch.Tensor) -> torch.Tensor:
    """fastai's ``AdaptiveConcatPool2d()``: max, then average, over H and W; (N, 2C, 1, 1)."""
    x64 = x.detach().cpu().double()
    return torch.cat([x64.amax(dim=(2, 3), keepdim=True), x64.mean(dim=(2, 3), keepdim=True)], dim=1)


def pool_mistakes(x: torch.Tensor) -> dict[str, t.Callable[[], torch.Tensor]]:
    x64 = x.detach().cpu().double()
    mx, av = x64.amax(dim=(2, 3), keepdim=True), x64.mean(dim=(2, 3), keepdim=True)
    return {"the average comes first (fastai concatenates max first, then average)": lambda: torch.cat([av, mx], 1),
            "only the average pool is returned (concat pool doubles the channels)": lambda: av,
            "only the max pool is returned (concat pool doubles the channels)": lambda: mx}


def head_mistakes(head: nn.Sequential, x: torch.Tensor) -> dict[str, t.Callable[[], torch.Tensor]]:
    """Outputs of fastai's ``head`` (eval mode) with a known mistake, for hints."""

    def swapped() -> torch.Tensor:
        pooled = concat_pool_ref(x).to(x.dtype)
        c = pooled.shape[1] // 2
        out = torch.cat([pooled[:, c:], pooled[:, :c]], 1).to(x.device)
        with torch.no_grad():
            return head[1:](out).detach().cpu().double()

    return {"the average pool comes first in the concat pool (fastai: max first)": swapped}


def kaiming_std(fan_in: int) -> float:
    """Standard deviation of ``nn.init.kaiming_normal_`` (fan_in mode, ReLU gain sqrt(2))."""
    return (2.0 / fan_in) ** 0.5
