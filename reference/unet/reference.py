"""Trusted reference for `unet`: what fastai's ``DynamicUnet`` does with an encoder, shape-wise.

Importing ``fastai.vision.models.unet`` costs several CPU seconds (it pulls in torchvision and
torch._dynamo), so the checks use these few lines, which restate fastai 2.8's rules
(``model_sizes`` + ``_get_sz_change_idxs`` + ``UnetBlock``/``ResizeToOrig`` shapes).
``verify_against_fastai.py`` next to this file compares them with the real ``DynamicUnet``
on the encoders and sizes the checks use (run it after a fastai upgrade).

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import torch

from grader.scenarios import load_scenario_file
from torch import nn

SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "unet" / "scenarios.py"


def scenarios() -> t.Any:
    """The public scenarios module (encoder builder, disc generator), loaded in this process."""
    return load_scenario_file(SCENARIOS)


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


def private_colour(generator: torch.Generator) -> torch.Tensor:
    """A colour direction of length 1 whose channels sum to 0: discs of this tint are neither
    brighter nor darker than their background, so no brightness rule finds them."""
    d = torch.randn(3, generator=generator)
    d = d - d.mean()
    return d / d.norm()


def private_discs(n: int, height: int, width: int, generator: torch.Generator,
                  colour: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Images unlike the public ``make_discs``: grey backgrounds from dark to light, up to three discs
    (some cut by the border) tinted along ``colour`` (same brightness as the background), varying noise.

    Drawn only in the grader's process: the training images go to the worker, the test images never do.
    """
    g = generator
    yy = torch.arange(height, dtype=torch.float32).view(1, height, 1)
    xx = torch.arange(width, dtype=torch.float32).view(1, 1, width)
    scale = min(height, width) / 32
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for disc in range(3):
        radius = (3.0 + 4.5 * torch.rand(n, 1, 1, generator=g)) * scale
        cy = -2 + torch.rand(n, 1, 1, generator=g) * (height + 3)
        cx = -2 + torch.rand(n, 1, 1, generator=g) * (width + 3)
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
        keep = (torch.rand(n, 1, 1, generator=g) < 0.5) if disc else torch.ones(n, 1, 1, dtype=torch.bool)
        masks |= inside & keep
    level = 0.2 + 0.6 * torch.rand(n, 1, 1, 1, generator=g)
    background = level + 0.05 * torch.randn(n, 3, 1, 1, generator=g)
    contrast = (0.35 + 0.25 * torch.rand(n, 1, 1, 1, generator=g)) * colour.view(1, 3, 1, 1)
    noise = (0.04 + 0.06 * torch.rand(n, 1, 1, 1, generator=g)) * torch.randn(n, 3, height, width, generator=g)
    return background + contrast * masks.unsqueeze(1).float() + noise, masks.long()


def iou(pred: torch.Tensor, mask: torch.Tensor) -> float:
    """Intersection over union of class 1."""
    p, y = pred == 1, mask == 1
    return int((p & y).sum()) / max(1, int((p | y).sum()))


def output_shape(n: int, n_out: int, height: int, width: int) -> tuple[int, int, int, int]:
    """``DynamicUnet``'s output shape: ``ResizeToOrig`` brings it back to the input's size."""
    return (n, n_out, height, width)

