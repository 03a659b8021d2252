"""Thug cat: a cat-face keypoint model / Schlüsselpunkte im Katzengesicht ("thug cat").

The bootcamp's last project: a CNN finds the two eyes of a cat, and we put sunglasses on it.
Keypoint regression (Schlüsselpunkt-Regression) predicts *coordinates*, so the conventions below
decide whether the glasses land on the eyes or somewhere on the forehead. Read them carefully:
the checks enforce every one of them, with non-square images so that swapped axes show.

Conventions (fastai's ``TensorPoint`` / ``PointScaler``)
--------------------------------------------------------
* A point is ``(x, y)`` in **pixels**: ``x`` runs along the width (to the right, the column
  direction), ``y`` along the height (**downwards**, the row direction); the origin is the top-left
  corner of the image. This is the order of ``plt.scatter(x, y)`` and of fastai's ``TensorPoint``,
  **not** ``(row, col)`` as in ``img[row, col] == img[y, x]``.
* Pixel ``(row i, column j)`` covers the square ``[j, j+1) x [i, i+1)``; its centre is
  ``(j + 0.5, i + 0.5)``. The whole image spans ``[0, W] x [0, H]``.
* ``img_size`` is ``(width, height)`` -- the order of ``PIL.Image.size`` and of fastai's
  ``PointScaler`` -- **not** ``img.shape[-2:]``, which is ``(H, W)``. For an image tensor of shape
  ``(C, H, W)``: ``img_size = (img.shape[-1], img.shape[-2])``.
* Scaled coordinates (what the model predicts) map the image onto ``[-1, 1] x [-1, 1]``::

      x_s = x * 2 / W - 1          y_s = y * 2 / H - 1

  so the left edge is -1, the right edge +1, the centre 0 (fastai's ``_scale_pnts``).
* Keypoints of one cat: a tensor ``(..., 2, 2)``: ``[..., 0, :]`` is the **left eye** (the eye on
  the left of the picture, smaller ``x``), ``[..., 1, :]`` the **right eye**, each ``(x, y)``.

Shapes, dtypes: every function takes any leading batch dimensions ``...`` and returns tensors
with the dtype and device of its input (float64 in, float64 out, computed in float64: no
float32 constants on the way).

Forbidden (from scratch / von Grund auf): anything from ``fastai`` or ``fasttransform``
(``sigmoid_range``, ``SigmoidRange``, ``PointScaler``, ``TensorPoint``, ``flip_lr``, ...). Plain
torch (``torch.sigmoid``, ``torch.atan2``, ``nn.LazyLinear``) is fine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

#: Sunglasses are this many times as wide as the distance between the eyes.
GLASSES_WIDTH_FACTOR = 2.0


def scale_points(points: torch.Tensor, img_size: Sequence[int]) -> torch.Tensor:
    """Pixel points ``(..., 2)`` as ``(x, y)`` -> scaled points in ``[-1, 1]`` (same shape).

    ``img_size`` is ``(width, height)``: ``x_s = x * 2 / width - 1``, ``y_s = y * 2 / height - 1``.
    A point on the left edge (x = 0) becomes -1, one on the right edge (x = width) +1.

    Hint: put ``img_size`` into a tensor with the points' dtype and device; broadcasting over the
    last axis does the rest.
    """
    # BEGIN SOLUTION
    size = torch.tensor([float(img_size[0]), float(img_size[1])], dtype=points.dtype, device=points.device)
    return points * 2 / size - 1
    # END SOLUTION


def unscale_points(points: torch.Tensor, img_size: Sequence[int]) -> torch.Tensor:
    """The inverse of :func:`scale_points`: scaled ``(x_s, y_s)`` in ``[-1, 1]`` -> pixels ``(x, y)``.

    ``img_size`` is ``(width, height)`` again. ``unscale_points(scale_points(p, s), s) == p``.
    Solve ``x_s = x * 2 / width - 1`` for ``x`` (fastai's ``_unscale_pnts``).
    """
    # BEGIN SOLUTION
    size = torch.tensor([float(img_size[0]), float(img_size[1])], dtype=points.dtype, device=points.device)
    return (points + 1) * size / 2
    # END SOLUTION


def flip_points_horizontal(points: torch.Tensor, width: float) -> torch.Tensor:
    """The eyes ``(..., 2, 2)`` of an image of ``width`` pixels, after mirroring the image left<->right.

    Mirroring (``img.flip(-1)``) moves pixel column ``j`` to ``width - 1 - j``, so its centre
    ``j + 0.5`` goes to ``width - (j + 0.5)``: a point ``(x, y)`` goes to ``(width - x, y)``
    (**not** ``width - 1 - x``; in scaled coordinates this is ``x_s -> -x_s``, fastai's
    ``TensorPoint.flip_lr``). ``y`` stays.

    But then the eye that was on the right is on the left: swap the two eyes, so that
    ``[..., 0, :]`` is the left eye again (a flipped cat with its eyes labelled the wrong way round
    teaches the model nonsense). Return a new tensor; do not change ``points`` in place.
    """
    # BEGIN SOLUTION
    flipped = torch.stack([width - points[..., 0], points[..., 1]], dim=-1)
    return flipped.flip(-2)
    # END SOLUTION


def glasses_transform(left_eye: torch.Tensor,
                      right_eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where the sunglasses go: ``(center, angle_degrees, width)`` for eyes ``(..., 2)`` in pixels.

    * ``center`` ``(..., 2)``: the midpoint between the eyes.
    * ``angle_degrees`` ``(...)``: the direction from the left to the right eye,
      ``atan2(y_r - y_l, x_r - x_l)`` in **degrees**, in ``[-180, 180]``. Because ``y`` points
      **down**, a positive angle means the right eye is lower than the left one: the glasses are
      turned **clockwise** on screen. (Use ``atan2``, not ``atan(dy / dx)``: a cat upside down has
      its "right" eye on the left, at about 180 degrees.)
    * ``width`` ``(...)``: ``GLASSES_WIDTH_FACTOR`` (2.0) times the Euclidean distance between the
      eyes (not just the horizontal distance: a tilted head has its eyes further apart than ``dx``).

    All three keep the eyes' dtype and device.
    """
    # BEGIN SOLUTION
    center = (left_eye + right_eye) / 2
    d = right_eye - left_eye
    angle = torch.atan2(d[..., 1], d[..., 0]) * (180 / math.pi)
    width = GLASSES_WIDTH_FACTOR * torch.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    return center, angle, width
    # END SOLUTION


class KeypointModel(nn.Module):
    """``encoder`` + a linear head + a sigmoid range: ``n_points`` keypoints ``(x_s, y_s)`` per image.

    ``KeypointModel(encoder, n_points, y_range=(-1, 1))`` has two submodules, under exactly these
    names (the checks load weights into ``encoder.*`` and ``head.weight`` / ``head.bias``):

    * ``encoder``: the module you are given. It maps images ``(N, C, H, W)`` to features of any
      shape ``(N, ...)`` (e.g. a feature map ``(N, c, h, w)``).
    * ``head``: one linear layer from the flattened features to ``2 * n_points`` numbers. How many
      features come out depends on the image size, which the model does not know yet: use
      ``nn.LazyLinear(2 * n_points)``, which finds its ``in_features`` on the first call.

    Keep ``n_points`` and ``y_range`` (a ``(low, high)`` pair) for ``forward``.

    ``forward(x)``: ``z = head(encoder(x).flatten(1))``, ``(N, 2 * n_points)``; then fastai's
    sigmoid range ``sigmoid(z) * (high - low) + low``, so every prediction lies inside the image
    (``y_range=(-1, 1)`` is the scaled image); then the shape ``(N, n_points, 2)``, where
    ``z[:, 2*k]`` becomes the ``x`` and ``z[:, 2*k + 1]`` the ``y`` of point ``k``.

    Note: ``sigmoid(z) * 2 - 1`` equals ``tanh(z / 2)``, not ``tanh(z)``.
    """

    def __init__(self, encoder: nn.Module, n_points: int, y_range: tuple[float, float] = (-1.0, 1.0)) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.encoder = encoder
        self.head = nn.LazyLinear(2 * n_points)
        self.n_points = n_points
        self.y_range = (float(y_range[0]), float(y_range[1]))
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(N, C, H, W)`` -> keypoints ``(N, n_points, 2)`` in ``y_range``."""
        # BEGIN SOLUTION
        z = self.head(self.encoder(x).flatten(1))
        low, high = self.y_range
        out = torch.sigmoid(z) * (high - low) + low
        return out.view(x.shape[0], self.n_points, 2)
        # END SOLUTION
