"""Mistake: the glasses are as wide as the eye distance (GLASSES_WIDTH_FACTOR forgotten)."""

_solution_glasses_transform = glasses_transform


def glasses_transform(left_eye, right_eye):
    center, angle, width = _solution_glasses_transform(left_eye, right_eye)
    return center, angle, width / GLASSES_WIDTH_FACTOR
