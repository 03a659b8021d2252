"""Mistake (precision): float64 points are scaled in float32 and cast back (a float32 constant on the way)."""

_solution_scale_points, _solution_unscale_points = scale_points, unscale_points


def scale_points(points, img_size):
    return _solution_scale_points(points.float(), img_size).to(points.dtype)


def unscale_points(points, img_size):
    return _solution_unscale_points(points.float(), img_size).to(points.dtype)
