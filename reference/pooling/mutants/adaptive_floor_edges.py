"""Mistake: adaptive bins end at floor((i+1)*H/out) instead of ceil((i+1)*H/out)."""


def _bin_edges(size, out):
    return [(i * size // out, (i + 1) * size // out) for i in range(out)]
