"""Mistake: unscale_points moves the '- 1' to the wrong side: x = x_s * width / 2 + 1."""


def unscale_points(points, img_size):
    size = torch.tensor([float(img_size[0]), float(img_size[1])], dtype=points.dtype, device=points.device)
    return points * size / 2 + 1
