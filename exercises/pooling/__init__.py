"""Exercise `pooling`: max, average and adaptive pooling from scratch."""

from .pooling import AdaptiveConcatPool2d, adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "AdaptiveConcatPool2d"]
