"""Exercise `conv`: a 2D convolution (cross-correlation) from scratch."""

from .conv import conv2d

__all__ = ["conv2d"]
