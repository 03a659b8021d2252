"""Mistake: (h, w) tuples are read as (width, height)."""


def _pair(value):
    if isinstance(value, int):
        return (value, value)
    h, w = value
    return (int(w), int(h))
