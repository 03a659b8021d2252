"""Mistake (precision): scale_points and unscale_points compute in bfloat16 and cast back."""

_solution_scale_points, _solution_unscale_points = scale_points, unscale_points


def scale_points(points, img_size):
    return _solution_scale_points(points.bfloat16(), img_size).to(points.dtype)


def unscale_points(points, img_size):
    return _solution_unscale_points(points.bfloat16(), img_size).to(points.dtype)
