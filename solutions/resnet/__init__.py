"""Exercise `resnet`: residual blocks and a small ResNet from scratch."""

from .resnet import ResBlock, ResNet

__all__ = ["ResBlock", "ResNet"]
