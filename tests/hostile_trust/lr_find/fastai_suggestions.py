# --- appended to the solution of lr_find.py: the suggestions forwarded to fastai's own functions --------
# lr_find itself is the student's; valley, minimum and steep are fastai's. Every suggestion check
# passes; the from-scratch gate must take all points away.

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
