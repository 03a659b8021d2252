"""Mistake: reaches fastai's combined_cos through importlib, hiding the import from a source scan."""

import importlib as _il


def combined_cos(pct, start, middle, end):
    return _il.import_module("fastai.callback." + "schedule").combined_cos(pct, start, middle, end)
