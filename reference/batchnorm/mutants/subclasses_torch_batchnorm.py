"""Mistake: subclasses torch's nn.BatchNorm2d (a wrapper of the implementation the exercise asks for)."""

from torch import nn


class BatchNorm2d(nn.BatchNorm2d):
    pass
