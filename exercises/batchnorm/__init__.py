"""Exercise `batchnorm`: a BatchNorm2d layer (Stapelnormalisierung) from scratch."""

from .batchnorm import BatchNorm2d

__all__ = ["BatchNorm2d"]
