"""Trusted reference for `unet`: what fastai's ``DynamicUnet`` does with an encoder, shape-wise.

Importing ``fastai.vision.models.unet`` costs several CPU seconds (it pulls in torchvision and
torch._dynamo), so the checks use these few lines, which restate fastai 2.8's rules
(``model_sizes`` + ``_get_sz_change_idxs`` + ``UnetBlock``/``ResizeToOrig`` shapes).
``verify_against_fastai.py`` next to this file compares them with the real ``DynamicUnet``
on the encoders and sizes the checks use (run it after a fastai upgrade).

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import importlib.util
import sys
import typing as t
from pathlib import Path

import torch
from torch import nn

SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "unet" / "scenarios.py"


def scenarios() -> t.Any:
    """The public scenarios module (encoder builder, disc generator), loaded in this process."""
    name = "grader_scenarios_trusted_unet"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCENARIOS)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _in_channels(encoder: nn.Module) -> int:
    """fastai's ``in_channels``: the input channels of the first 4-D weight."""
    for p in encoder.parameters():
        if p.dim() == 4:
            return int(p.shape[1])
    raise ValueError("no convolution in the encoder")


def layer_shapes(encoder: nn.Sequential, size: tuple[int, int]) -> list[tuple[int, ...]]:
    """fastai's ``model_sizes``: the output shape of every child for a dummy (1, C, *size) batch."""
    x = torch.zeros(1, _in_channels(encoder), *size)
    shapes = []
    was = encoder.training
    encoder.eval()
    with torch.no_grad():
        for layer in encoder:
            x = layer(x)
            shapes.append(tuple(x.shape))
    encoder.train(was)
    return shapes


def skip_idxs(encoder: nn.Sequential, img_size: tuple[int, int]) -> list[int]:
    """fastai's hooked layers, deepest first: ``reversed(_get_sz_change_idxs(model_sizes(...)))``."""
    shapes = layer_shapes(encoder, img_size)
    widths = [s[-1] for s in shapes]
    return list(reversed([i for i in range(len(widths) - 1) if widths[i] != widths[i + 1]]))


def layout(spec: t.Any, img_size: tuple[int, int], input_size: tuple[int, int] | None = None) -> dict[str, t.Any]:
    """For the encoder ``spec``: hooked layers (deepest first), their channels, the encoder's output
    channels, and the spatial size of every skip for an input of ``input_size`` (default ``img_size``)
    which is the spatial size of every ``UnetBlock``'s output in ``DynamicUnet``."""
    encoder = scenarios().build_encoder(spec)
    idxs = skip_idxs(encoder, img_size)
    shapes = layer_shapes(encoder, tuple(input_size or img_size))
    return {"idxs": idxs, "skip_channels": [shapes[i][1] for i in idxs], "n_layers": len(shapes),
            "out_channels": shapes[-1][1], "skip_sizes": [tuple(shapes[i][-2:]) for i in idxs]}


def output_shape(n: int, n_out: int, height: int, width: int) -> tuple[int, int, int, int]:
    """``DynamicUnet``'s output shape: ``ResizeToOrig`` brings it back to the input's size."""
    return (n, n_out, height, width)

