"""Mistake: borrows fastai's PixelShuffle_ICNR for the last upsampling (fastai is forbidden here)."""

from fastai.layers import PixelShuffle_ICNR

_Solution = UNet


class UNet(_Solution):
    def __init__(self, encoder, n_out, img_size):
        super().__init__(encoder, n_out, img_size)
        if self.up_final is not None:
            c = self.up_final.in_channels
            self.up_final = PixelShuffle_ICNR(c, c)
