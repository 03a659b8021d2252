"""Mistake: points taken as (row, col): the flip mirrors the second coordinate (y) instead of x."""


def flip_points_horizontal(points, width):
    return torch.stack([points[..., 0], width - points[..., 1]], dim=-1).flip(-2)
