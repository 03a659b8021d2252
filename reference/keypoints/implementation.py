"""Trusted implementation of the `keypoints` API (runs only in the grader's process).

``KeypointModel`` is what the hidden checks load a student's weights into. The point functions
follow fastai's ``_scale_pnts`` / ``_unscale_pnts`` (``fastai.vision.core``) and
``TensorPoint.flip_lr`` (``fastai.vision.augment``) with ``img_size = (width, height)``; they are
written out in torch because importing ``fastai.vision`` costs seconds per grading run.
:func:`agrees_with_fastai` proves the equality (run it after a fastai upgrade).
"""

from __future__ import annotations

import typing as t

import torch
from torch import nn

GLASSES_WIDTH_FACTOR = 2.0


def _size(img_size: t.Sequence[float], like: torch.Tensor) -> torch.Tensor:
    return torch.tensor([float(img_size[0]), float(img_size[1])], dtype=like.dtype, device=like.device)


def scale_points(points: torch.Tensor, img_size: t.Sequence[float]) -> torch.Tensor:
    """fastai ``_scale_pnts(points, img_size)``: ``p * 2 / (w, h) - 1``."""
    return points * 2 / _size(img_size, points) - 1


def unscale_points(points: torch.Tensor, img_size: t.Sequence[float]) -> torch.Tensor:
    """fastai ``_unscale_pnts(points, img_size)``: ``(p + 1) * (w, h) / 2``."""
    return (points + 1) * _size(img_size, points) / 2


def flip_points_horizontal(points: torch.Tensor, width: float) -> torch.Tensor:
    """fastai's ``flip_lr`` (``x_s -> -x_s`` in scaled coordinates), in pixels, then left/right eyes swapped."""
    return torch.stack([width - points[..., 0], points[..., 1]], dim=-1).flip(-2)


def glasses_transform(left_eye: torch.Tensor,
                      right_eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    d = right_eye - left_eye
    return ((left_eye + right_eye) / 2, torch.rad2deg(torch.atan2(d[..., 1], d[..., 0])),
            GLASSES_WIDTH_FACTOR * torch.linalg.vector_norm(d, dim=-1))


def sigmoid_range(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """fastai.layers.sigmoid_range (same expression)."""
    return torch.sigmoid(x) * (high - low) + low


class KeypointModel(nn.Module):
    """``encoder`` -> flatten -> ``head`` (LazyLinear) -> ``sigmoid_range(*y_range)`` -> (N, n_points, 2)."""

    def __init__(self, encoder: nn.Module, n_points: int, y_range: tuple[float, float] = (-1.0, 1.0)) -> None:
        super().__init__()
        self.encoder, self.head = encoder, nn.LazyLinear(2 * n_points)
        self.n_points, self.y_range = n_points, (float(y_range[0]), float(y_range[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(self.encoder(x).flatten(1))
        return sigmoid_range(z, *self.y_range).view(x.shape[0], self.n_points, 2)


def agrees_with_fastai() -> None:
    """Compare the functions above with fastai's own (slow imports: not used by the checks)."""
    from fastai.layers import sigmoid_range as fastai_sigmoid_range
    from fastai.vision.augment import flip_lr  # noqa: F401  (patches TensorPoint.flip_lr)
    from fastai.vision.core import TensorPoint, _scale_pnts, _unscale_pnts

    def same(ours: torch.Tensor, theirs: torch.Tensor) -> None:  # fastai's points are float32
        torch.testing.assert_close(ours, theirs.as_subclass(torch.Tensor).to(ours.dtype), rtol=1e-6, atol=1e-6)

    g = torch.Generator().manual_seed(0)
    size = (57, 31)
    points = torch.rand(5, 2, 2, generator=g, dtype=torch.float64) * torch.tensor(size, dtype=torch.float64)
    same(scale_points(points, size), _scale_pnts(points.view(-1, 2), size).view(5, 2, 2))
    scaled = scale_points(points, size)
    same(unscale_points(scaled, size), _unscale_pnts(scaled.view(-1, 2), size).view(5, 2, 2))
    fastai_flip = TensorPoint(scaled.view(-1, 2)).flip_lr().as_subclass(torch.Tensor).view(5, 2, 2).flip(-2)
    same(scale_points(flip_points_horizontal(points, size[0]), size), fastai_flip)
    z = torch.randn(7, generator=g, dtype=torch.float64)
    same(sigmoid_range(z, -1, 1), fastai_sigmoid_range(z, -1, 1))


if __name__ == "__main__":
    agrees_with_fastai()
    print("the keypoints reference agrees with fastai")
