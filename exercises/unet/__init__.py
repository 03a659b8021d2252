"""Exercise `unet`: a U-Net (fastai's DynamicUnet) on top of any encoder, from scratch."""

from .unet import UNet

__all__ = ["UNet"]
