"""Mistake: subclasses fastai's AdaptiveConcatPool2d instead of writing it (fastai is forbidden here)."""

from fastai.layers import AdaptiveConcatPool2d as _FastaiConcatPool2d


class AdaptiveConcatPool2d(_FastaiConcatPool2d):
    def __init__(self, size=1):
        super().__init__(size)
