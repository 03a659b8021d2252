"""Mistake: the angle uses the maths convention (y up): atan2(-dy, dx), so the glasses tilt the wrong way."""

_solution_glasses_transform = glasses_transform


def glasses_transform(left_eye, right_eye):
    d = right_eye - left_eye
    center, _, width = _solution_glasses_transform(left_eye, right_eye)
    return center, torch.rad2deg(torch.atan2(-d[..., 1], d[..., 0])), width
