"""Mistake: the glasses' angle is returned in radians instead of degrees."""

_solution_glasses_transform = glasses_transform


def glasses_transform(left_eye, right_eye):
    d = right_eye - left_eye
    center, _, width = _solution_glasses_transform(left_eye, right_eye)
    return center, torch.atan2(d[..., 1], d[..., 0]), width
