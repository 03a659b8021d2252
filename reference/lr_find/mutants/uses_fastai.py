"""Mistake: wraps fastai's valley/minimum/steep instead of writing them."""

import torch as _torch
from fastai.callback.schedule import minimum as _minimum, steep as _steep, valley as _valley


def _t(values):
    return _torch.tensor(list(values), dtype=_torch.float64)


def suggest_valley(lrs, losses):
    return float(_valley(_t(lrs), _t(losses), 0)[0])


def suggest_minimum(lrs, losses):
    return float(_minimum(_t(lrs), _t(losses), 0)[0])


def suggest_steep(lrs, losses):
    return float(_steep(_t(lrs), _t(losses), 0)[0])
