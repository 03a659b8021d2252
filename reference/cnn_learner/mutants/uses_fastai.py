"""Mistake: reuses fastai's AdaptiveConcatPool2d (fastai is forbidden here)."""

from fastai.layers import AdaptiveConcatPool2d
