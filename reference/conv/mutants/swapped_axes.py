"""Mistake: tuples are read as (width, height) instead of (height, width)."""


def _pair(value):
    if isinstance(value, int):
        return (value, value)
    h, w = value
    return (int(w), int(h))
