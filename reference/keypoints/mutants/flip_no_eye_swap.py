"""Mistake: the flip mirrors x but does not swap the left and right eye."""


def flip_points_horizontal(points, width):
    return torch.stack([width - points[..., 0], points[..., 1]], dim=-1)
