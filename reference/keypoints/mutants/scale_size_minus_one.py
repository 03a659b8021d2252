"""Mistake: scales by (width - 1, height - 1), as if pixel centres sat at 0 .. width - 1 (align_corners)."""


def scale_points(points, img_size):
    size = torch.tensor([float(img_size[0]), float(img_size[1])], dtype=points.dtype, device=points.device)
    return points * 2 / (size - 1) - 1
