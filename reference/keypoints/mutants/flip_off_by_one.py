"""Mistake: the flip maps x to width - 1 - x (pixel indices), not width - x (pixel centres at j + 0.5)."""


def flip_points_horizontal(points, width):
    return torch.stack([width - 1 - points[..., 0], points[..., 1]], dim=-1).flip(-2)
