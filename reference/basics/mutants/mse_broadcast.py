"""Mistake: mse subtracts target (n,) from pred (n, 1) without squeezing: an (n, n) broadcast."""


def mse(pred, target):
    return (pred - target).pow(2).mean()
