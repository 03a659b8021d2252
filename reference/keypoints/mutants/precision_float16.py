"""Mistake (precision): scale_points and unscale_points compute in float16 and cast back."""

_solution_scale_points, _solution_unscale_points = scale_points, unscale_points


def scale_points(points, img_size):
    return _solution_scale_points(points.half(), img_size).to(points.dtype)


def unscale_points(points, img_size):
    return _solution_unscale_points(points.half(), img_size).to(points.dtype)
