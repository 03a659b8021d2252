"""Mistake: img_size read as (height, width), like img.shape[-2:], instead of (width, height)."""


def _size_hw(img_size, points):
    height, width = img_size
    return torch.tensor([float(width), float(height)], dtype=points.dtype, device=points.device)


def scale_points(points, img_size):
    return points * 2 / _size_hw(img_size, points) - 1


def unscale_points(points, img_size):
    return (points + 1) * _size_hw(img_size, points) / 2
