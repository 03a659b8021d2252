"""Exercise `keypoints`: the bootcamp's cat-face keypoint model ("thug cat")."""

from .keypoints import (
    GLASSES_WIDTH_FACTOR,
    KeypointModel,
    flip_points_horizontal,
    glasses_transform,
    scale_points,
    unscale_points,
)

__all__ = ["GLASSES_WIDTH_FACTOR", "KeypointModel", "flip_points_horizontal", "glasses_transform",
           "scale_points", "unscale_points"]
