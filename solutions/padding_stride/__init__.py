"""Exercise `padding_stride`: the output sizes of convolutions, and receptive fields."""

from .padding_stride import conv_output_size, conv_transpose_output_size, receptive_field, same_padding

__all__ = ["conv_output_size", "same_padding", "conv_transpose_output_size", "receptive_field"]
