"""Mistake: atan(dy / dx) instead of atan2(dy, dx): wrong by 180 degrees when the right eye is left of the left eye."""

_solution_glasses_transform = glasses_transform


def glasses_transform(left_eye, right_eye):
    d = right_eye - left_eye
    center, _, width = _solution_glasses_transform(left_eye, right_eye)
    return center, torch.rad2deg(torch.atan(d[..., 1] / d[..., 0])), width
