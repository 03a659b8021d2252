"""Mistake: normalize broadcasts the (C,) statistics against the last axis instead of the channel axis."""


def normalize(x, mean, std):
    return (x - mean) / std
