"""Trusted reference values for `keypoints` (float64, CPU) and the results of known mistakes.

The formulas are fastai's (``_scale_pnts``, ``_unscale_pnts``, ``TensorPoint.flip_lr``,
``sigmoid_range``) with ``img_size = (width, height)``; ``implementation.agrees_with_fastai``
checks them against fastai itself. Only the grader's process imports this module.
"""

from __future__ import annotations

import math
import typing as t

import torch
from torch import nn

from reference.keypoints import implementation

Mistakes = dict[str, t.Callable[[], torch.Tensor]]

GLASSES_WIDTH_FACTOR = implementation.GLASSES_WIDTH_FACTOR


def _f64(x: torch.Tensor) -> torch.Tensor:
    return x.detach().to("cpu", torch.float64)


def _size(img_size: t.Sequence[float]) -> torch.Tensor:
    return torch.tensor([float(img_size[0]), float(img_size[1])], dtype=torch.float64)


# -- points --------------------------------------------------------------------------------------
def scale_ref(points: torch.Tensor, img_size: t.Sequence[float]) -> torch.Tensor:
    return _f64(points) * 2 / _size(img_size) - 1


def unscale_ref(points: torch.Tensor, img_size: t.Sequence[float]) -> torch.Tensor:
    return (_f64(points) + 1) * _size(img_size) / 2


def _precision(formula: t.Callable[[torch.Tensor, torch.Tensor], torch.Tensor], p: torch.Tensor,
               s: torch.Tensor) -> Mistakes:
    """The formula computed in float16 / bfloat16, and (matched loosely) the exact result: for a
    float64 call that is off by float32 rounding only."""
    def low(dtype: torch.dtype) -> t.Callable[[], torch.Tensor]:
        return lambda: formula(p.to(dtype), s.to(dtype)).double()

    return {"it was computed in float16": low(torch.float16), "it was computed in bfloat16": low(torch.bfloat16),
            "it was computed in float32 (or a float32 constant crept in); float64 input must be computed in "
            "float64": lambda: formula(p, s)}


def scale_mistakes(points: torch.Tensor, img_size: t.Sequence[float]) -> Mistakes:
    p, s = _f64(points), _size(img_size)
    return {
        "img_size was read as (height, width); it is (width, height), like PIL's Image.size":
            lambda: p * 2 / s.flip(0) - 1,
        "the result came back as (y, x); points are (x, y), not (row, col)": lambda: (p * 2 / s - 1).flip(-1),
        "the '- 1' is missing (the image maps to [0, 2] instead of [-1, 1])": lambda: p * 2 / s,
        "the size minus one was used (x * 2 / (width - 1) - 1); the image spans [0, width]":
            lambda: p * 2 / (s - 1) - 1,
        "the factor 2 is missing (x / width - 1)": lambda: p / s - 1,
        **_precision(lambda q, size: q * 2 / size - 1, p, s),
    }


def unscale_mistakes(points: torch.Tensor, img_size: t.Sequence[float]) -> Mistakes:
    p, s = _f64(points), _size(img_size)
    return {
        "img_size was read as (height, width); it is (width, height), like PIL's Image.size":
            lambda: (p + 1) * s.flip(0) / 2,
        "the result came back as (y, x); points are (x, y), not (row, col)": lambda: ((p + 1) * s / 2).flip(-1),
        "the inverse is wrong: x = x_s * width / 2 + 1 undoes the '- 1' in the wrong place; solve "
        "x_s = x * 2 / width - 1 for x step by step": lambda: p * s / 2 + 1,
        "the '/ 2' is missing ((x_s + 1) * width)": lambda: (p + 1) * s,
        "the '+ 1' is missing (x_s * width / 2)": lambda: p * s / 2,
        **_precision(lambda q, size: (q + 1) * size / 2, p, s),
    }


def flip_ref(points: torch.Tensor, width: float) -> torch.Tensor:
    p = _f64(points)
    return torch.stack([width - p[..., 0], p[..., 1]], dim=-1).flip(-2)


def flip_mistakes(points: torch.Tensor, width: float) -> Mistakes:
    p = _f64(points)
    mirrored = torch.stack([width - p[..., 0], p[..., 1]], dim=-1)
    off_by_one = torch.stack([width - 1 - p[..., 0], p[..., 1]], dim=-1)
    return {
        "the eyes were mirrored but not swapped: after a flip the right eye is on the left, so "
        "[..., 0, :] must be the (new) left eye": lambda: mirrored,
        "x went to width - 1 - x; with pixel centres at j + 0.5 the mirror of x is width - x":
            lambda: off_by_one.flip(-2),
        "x went to width - 1 - x and the eyes were not swapped": lambda: off_by_one,
        "y was mirrored instead of x; points are (x, y), not (row, col)":
            lambda: torch.stack([p[..., 0], width - p[..., 1]], dim=-1).flip(-2),
        "only the eyes were swapped, nothing was mirrored": lambda: p.flip(-2),
        "the points were mirrored in scaled coordinates (x -> -x) although they are pixels": lambda: torch.stack(
            [-p[..., 0], p[..., 1]], dim=-1).flip(-2),
    }


# -- glasses -------------------------------------------------------------------------------------
def glasses_ref(left: torch.Tensor, right: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    l, r = _f64(left), _f64(right)
    d = r - l
    angle = torch.atan2(d[..., 1], d[..., 0]) * (180 / math.pi)
    return (l + r) / 2, angle, GLASSES_WIDTH_FACTOR * torch.sqrt((d * d).sum(-1))


def glasses_mistakes(left: torch.Tensor, right: torch.Tensor) -> tuple[Mistakes, Mistakes, Mistakes]:
    l, r = _f64(left), _f64(right)
    d = r - l
    dx, dy = d[..., 0], d[..., 1]
    deg = 180 / math.pi
    angle = torch.atan2(dy, dx) * deg
    center = {
        "the center is half the difference of the eyes, not their midpoint": lambda: d / 2,
        "the center came back as (y, x); points are (x, y)": lambda: ((l + r) / 2).flip(-1),
    }
    angles = {
        "the angle is in radians; degrees are asked for": lambda: torch.atan2(dy, dx),
        "the angle has the wrong sign: y points down in images, so a lower right eye is a positive "
        "(clockwise) angle, as atan2(dy, dx) gives it": lambda: -angle,
        "atan(dy / dx) loses the quadrant (eyes with dx < 0); use atan2(dy, dx)":
            lambda: torch.atan(dy / dx) * deg,
        "atan2 got its arguments as (dx, dy); it is atan2(y, x), and points are (x, y)":
            lambda: torch.atan2(dx, dy) * deg,
        "the angle points from the right eye to the left one": lambda: torch.atan2(-dy, -dx) * deg,
        "the angle was wrapped into [0, 360); keep atan2's range [-180, 180]": lambda: torch.remainder(angle, 360),
    }
    distance = torch.sqrt(dx * dx + dy * dy)
    widths = {
        f"the width is the eye distance itself; it is GLASSES_WIDTH_FACTOR ({GLASSES_WIDTH_FACTOR:g}) times "
        "the distance": lambda: distance,
        "the width uses only the horizontal distance |dx|; use the Euclidean distance between the eyes":
            lambda: GLASSES_WIDTH_FACTOR * dx.abs(),
        "the width is the squared distance (the square root is missing)":
            lambda: GLASSES_WIDTH_FACTOR * (dx * dx + dy * dy),
    }
    return center, angles, widths


# -- model ---------------------------------------------------------------------------------------
def reference_model(encoder: nn.Module, n_points: int, y_range: tuple[float, float],
                    image_shape: tuple[int, int, int]) -> nn.Module:
    """``implementation.KeypointModel`` on ``encoder`` in float64, its lazy head initialised for
    ``image_shape``, ready for :func:`grader.weights.load_weights`."""
    model = implementation.KeypointModel(encoder, n_points, y_range).eval()
    with torch.no_grad():
        model(torch.zeros(1, *image_shape))  # materialise the lazy head
    return model.double()


def head_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The head's raw output ``z`` (N, 2 * n_points) of the reference model, float64."""
    with torch.no_grad():
        return model.head(model.encoder(_f64(x)).flatten(1))


def model_mistakes(z: torch.Tensor, n_points: int, y_range: tuple[float, float]) -> Mistakes:
    low, high = y_range
    n = z.shape[0]

    def shaped(v: torch.Tensor) -> torch.Tensor:
        return v.reshape(n, n_points, 2)

    return {
        "there is no sigmoid range: the head's raw output came back": lambda: shaped(z),
        "plain sigmoid(z) came back, without scaling it to y_range": lambda: shaped(torch.sigmoid(z)),
        "tanh(z) was used; fastai's sigmoid range is sigmoid(z) * (high - low) + low (for (-1, 1) that is "
        "tanh(z / 2))": lambda: shaped(torch.tanh(z) * (high - low) / 2 + (high + low) / 2),
        "y_range was ignored (the output is always in (-1, 1))": lambda: shaped(torch.sigmoid(z) * 2 - 1),
        "the 2 * n_points numbers were laid out as (2, n_points) (all x first, then all y); "
        "z[:, 2k] and z[:, 2k + 1] are the x and y of point k":
            lambda: (torch.sigmoid(z) * (high - low) + low).reshape(n, 2, n_points).transpose(1, 2),
    }


def head_weights(model: nn.Module, x: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """Random float64 head weights that give logits of standard deviation 1.5 on ``x``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        features = model.encoder(_f64(x)).flatten(1)
    n_out, n_in = model.head.weight.shape
    weight = torch.randn(n_out, n_in, generator=g, dtype=torch.float64)
    weight = weight * (1.5 / (features @ weight.T).std().clamp_min(1e-12))
    return {"head.weight": weight, "head.bias": 0.3 * torch.randn(n_out, generator=g, dtype=torch.float64)}
