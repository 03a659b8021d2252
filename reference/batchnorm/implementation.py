"""The trusted implementation behind the scenarios of `batchnorm`: PyTorch's own layer."""

from torch.nn import BatchNorm2d

__all__ = ["BatchNorm2d"]
