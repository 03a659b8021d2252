"""Mistake: even_mults spaces the rates linearly instead of geometrically."""


def even_mults(start, stop, n):
    if n == 1:
        return [stop]
    return [start + (stop - start) * i / (n - 1) for i in range(n)]
