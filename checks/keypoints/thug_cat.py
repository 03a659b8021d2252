"""The published keypoint architecture and the sunglasses picture, for the checks and the web app.

``test_public.py`` (``thug_cat.png``) and ``grade serve keypoints`` both import this file in the
trusted process: the weights a student's training returns are loaded into :class:`PublishedModel`
here, and the sunglasses go where the student's ``glasses_transform`` (run in the sandbox) puts
them. Only torch, PIL and the standard library are used; nothing here runs student code.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from grader.scenarios import load_scenario_file

#: Sunglasses are drawn in this colour (RGBA).
LENS = (10, 10, 10, 235)


def _scenarios():
    return load_scenario_file(Path(__file__).with_name("scenarios.py"))


class PublishedModel(nn.Module):
    """The published architecture, rebuilt here to judge weights that come back from the sandbox.

    ``encoder`` (``scenarios.tiny_encoder()``), ``head`` (a linear layer from the flattened features
    to 4 numbers) and fastai's sigmoid range for ``y_range=(-1, 1)``: what the docstring of
    ``KeypointModel`` asks for, for two keypoints on 64x64 images.
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder = _scenarios().tiny_encoder()
        self.head = nn.Linear(8 * 8 * 8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(self.encoder(x).flatten(1))
        return (torch.sigmoid(z) * 2 - 1).view(x.shape[0], 2, 2)


ZOOM = 5


def _finite(value: object, default: float = 0.0, limit: float = 1e4) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return max(-limit, min(limit, v)) if math.isfinite(v) else default


def _sunglasses(center: tuple[float, float], angle_deg: float, width: float) -> list[list[tuple[float, float]]]:
    """Polygons of thug-life sunglasses, in the pixel coordinates of the image they go on."""
    theta = math.radians(angle_deg)
    cos, sin = math.cos(theta), math.sin(theta)

    def place(u: float, v: float) -> tuple[float, float]:  # u along the glasses, v downwards
        return center[0] + width * (u * cos - v * sin), center[1] + width * (u * sin + v * cos)

    bar = [place(-0.5, -0.1), place(0.5, -0.1), place(0.5, -0.04), place(-0.5, -0.04)]
    lenses = []
    for mid in (-0.25, 0.25):
        outline = [(mid - 0.2, -0.06), (mid + 0.2, -0.06)]
        outline += [(mid + 0.2 * math.cos(t / 8 * math.pi), 0.13 * math.sin(t / 8 * math.pi)) for t in range(9)]
        lenses.append([place(u, v) for u, v in outline])
    return [bar, *lenses]


def draw_thug_cats(images: torch.Tensor, eyes: torch.Tensor, errors: torch.Tensor,
                   glasses: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None, path: Path) -> None:
    """A row of cats with their predicted eyes (red rings) and sunglasses from ``glasses``."""
    from PIL import Image, ImageDraw

    n, _, h, w = images.shape
    tile_w, tile_h = w * ZOOM, h * ZOOM
    top = 26  # a line of legend above the cats
    canvas = Image.new("RGB", (n * tile_w + (n + 1) * 8, top + tile_h + 16 + 28), (20, 20, 24))
    legend = "red rings: the eyes your model finds;  sunglasses: where your glasses_transform puts them"
    if glasses is None:
        legend = "red rings: the eyes your model finds;  no sunglasses: glasses_transform did not work"
    ImageDraw.Draw(canvas).text((10, 8), legend, fill=(230, 230, 230))
    pixels = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    for i in range(n):
        tile = Image.frombytes("RGB", (w, h), bytes(pixels[i].flatten().tolist()))
        tile = tile.resize((tile_w, tile_h), Image.NEAREST).convert("RGBA")
        overlay = Image.new("RGBA", tile.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        if glasses is not None:
            center, angle, width = (g.detach().to("cpu", torch.float64) for g in glasses)
            try:
                c = (_finite(center[i][0]), _finite(center[i][1]))
                polygons = _sunglasses(c, _finite(angle[i]), _finite(width[i], limit=200.0))
            except (IndexError, TypeError):
                polygons = []
            for polygon in polygons:
                draw.polygon([(x * ZOOM, y * ZOOM) for x, y in polygon], fill=LENS)
        for x, y in eyes[i].tolist():
            x, y = _finite(x) * ZOOM, _finite(y) * ZOOM
            draw.ellipse([x - 6, y - 6, x + 6, y + 6], outline=(255, 40, 40, 255), width=2)
        tile = Image.alpha_composite(tile, overlay).convert("RGB")
        left = 8 + i * (tile_w + 8)
        canvas.paste(tile, (left, top + 8))
        ImageDraw.Draw(canvas).text((left + 4, top + tile_h + 14), f"error {_finite(errors[i], math.inf):.2f} px",
                                    fill=(230, 230, 230))
    canvas.save(path, format="PNG")



def draw_glasses(photo, glasses: tuple[tuple[float, float], float, float] | None,
                 eyes: list[tuple[float, float]] | None = None):
    """``photo`` (a PIL RGB image) with sunglasses where ``glasses = (center, angle_deg, width)``
    puts them (pixels of ``photo``; ``None``: none), and red rings on ``eyes`` when given. Values
    that are not finite numbers are clamped, so a student's odd answer still gives a picture."""
    from PIL import Image, ImageDraw

    size = max(photo.size)
    overlay = Image.new("RGBA", photo.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    if glasses is not None:
        (cx, cy), angle_deg, width = glasses
        center = (_finite(cx, limit=4 * size), _finite(cy, limit=4 * size))
        for polygon in _sunglasses(center, _finite(angle_deg), _finite(width, limit=4 * size)):
            draw.polygon(polygon, fill=LENS)
    ring = max(4.0, size / 60)
    for x, y in eyes or []:
        x, y = _finite(x, limit=4 * size), _finite(y, limit=4 * size)
        draw.ellipse([x - ring, y - ring, x + ring, y + ring], outline=(255, 40, 40, 255),
                     width=max(2, round(ring / 3)))
    return Image.alpha_composite(photo.convert("RGBA"), overlay).convert("RGB")
