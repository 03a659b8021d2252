"""A U-Net on top of any encoder / Ein U-Net auf einem beliebigen Encoder (fastai's ``DynamicUnet``).

A U-Net turns a classifier body (the *encoder*, e.g. a cut ResNet) into a segmentation model: for
every pixel it predicts one score per class. The encoder shrinks the image step by step (stride 2
convolutions, pooling) while it grows the number of channels. The *decoder* (Decoder) walks back
up: every decoder block doubles the resolution again and gets a **skip connection**
(Sprungverbindung) from the encoder activation that had exactly that resolution. That is how the
fine detail of the early layers reaches the output.

fastai's ``DynamicUnet`` finds the skip connections by itself, and so does your ``UNet``:

1. **Find the size changes.** Run a dummy batch ``torch.zeros(1, in_channels, *img_size)``
   through the encoder *layer by layer* (``nn.Sequential`` is iterable) and record the shape
   after every layer. Layer ``i`` is a skip layer when its output width differs from the output
   width of layer ``i + 1`` (it is the last layer before the size changes). Compare the **width**
   (the last dimension), as fastai does. Do the dummy pass in ``eval()`` mode under
   ``torch.no_grad()`` and put the encoder back into the mode it was in: building the model must
   not change the encoder's weights or its BatchNorm running statistics.
2. **Middle.** Two 3x3 convolutions (padding 1) with ReLU on the encoder's output: ``ni -> 2*ni
   -> ni`` channels (``ni`` = channels of the encoder's output). The first decoder block thus
   gets ``ni`` channels.
3. **Decoder blocks** (``self.blocks``, an ``nn.ModuleList``, one block per skip layer, the
   **deepest skip first**). A block that gets ``up_in_c`` channels from below and a skip with
   ``x_in_c`` channels

   - upsamples with ``nn.ConvTranspose2d(up_in_c, up_in_c // 2, kernel_size=2, stride=2)``
     (twice the size, **half** the channels),
   - resizes the result to the skip's height and width with ``F.interpolate(...,
     mode="nearest")`` when they differ (odd sizes: 17 -> 9 -> 18, but the skip has 17),
   - **concatenates** (verketten, ``torch.cat`` on the channel axis) the upsampled tensor and
     the skip, ReLU,
   - then two convolutions ``conv1``, ``conv2`` (``nn.Conv2d``, 3x3, padding 1), each followed
     by a ReLU. ``conv1`` therefore has ``up_in_c // 2 + x_in_c`` input channels (fastai keeps
     that many output channels, except in the last block, which halves them).

   The block's output has the spatial size of its skip.
4. **Back to the input size.** After the last block the activation has the size of the encoder's
   first layer. If that differs from ``img_size`` (a stride-2 stem) upsample once more by 2; then,
   if height or width still differ from the **input's** (odd sizes!), ``F.interpolate`` to the
   input's height and width (``mode="nearest"``).
5. **Head.** fastai concatenates the input image once more ("last cross"), then convolutions to
   ``n_out`` channels; a 3x3 conv + ReLU and a final 1x1 conv to ``n_out`` work well.
6. **Init.** Initialise the new convolutions with ``nn.init.kaiming_normal_`` and zero biases
   (fastai's ``apply_init``): with PyTorch's default init a deep stack of ReLUs without
   BatchNorm can die in a short training. Zeroing the last conv's weight (the model starts with
   logits 0, "no opinion") makes training steadier still.

The output has shape ``(N, n_out, H, W)``, the input's ``H`` and ``W``, for every ``H, W >= 32``
(odd ones too), and the dtype and device of the input (after ``model.to(...)``/``model.double()``).

What the checks rely on. They rebuild your decoder in the grader from its weights (``state_dict``)
and compare it with your model on random inputs and weights, so keep these names and this data flow:

- ``self.encoder`` is the given encoder (not a copy); ``self.middle`` works on its output;
- ``self.blocks`` is the ``nn.ModuleList`` of decoder blocks (deepest skip first); block ``i``
  gets ``h`` from below and skip ``s``, and computes ``up = block.up(h)``, resized to ``s``'s
  height and width if they differ (``F.interpolate``, ``mode="nearest"``), then
  ``h = relu(block.conv2(relu(block.conv1(relu(cat([up, block.bn(s)], dim=1))))))``; ``bn`` (on
  the skip) is optional, ``conv1``/``conv2`` are ``nn.Conv2d`` (3x3, padding 1) or an
  ``nn.Sequential`` that starts with one;
- after the last block ``self.up_final`` if you have one (``None`` or absent otherwise), the resize
  to the input's height and width, and ``self.head`` on ``torch.cat([h, x], dim=1)`` (or on ``h``
  alone, without the last cross).

``middle``, ``up``, ``bn``, ``conv1``, ``conv2``, ``up_final`` and ``head`` are layers from
``torch.nn`` (``Conv2d``, ``ConvTranspose2d``, ``BatchNorm2d``, ``ReLU``, ``Upsample``, ...) or an
``nn.Sequential`` of them; their sizes and what is inside them are up to you. Gradients must flow
back into the encoder *through the skips*: do not ``.detach()`` the stored activations.

Forbidden: fastai (``DynamicUnet``, ``UnetBlock``, ``hook_outputs``, ...) and any other ready-made
U-Net. Allowed: everything in ``torch.nn``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


# BEGIN SOLUTION
def _in_channels(encoder: nn.Module) -> int:
    """Input channels of the encoder: those of its first 4-D weight (a convolution)."""
    for p in encoder.parameters():
        if p.dim() == 4:
            return int(p.shape[1])
    raise ValueError("the encoder has no convolution to tell its input channels")


def _layer_shapes(encoder: nn.Sequential, img_size: tuple[int, int]) -> list[torch.Size]:
    """The output shape of every encoder layer for a dummy batch of one ``img_size`` image."""
    p = next(encoder.parameters())
    x = torch.zeros(1, _in_channels(encoder), *img_size, dtype=p.dtype, device=p.device)
    was_training = encoder.training
    encoder.eval()
    shapes = []
    with torch.no_grad():
        for layer in encoder:
            x = layer(x)
            shapes.append(x.shape)
    encoder.train(was_training)
    return shapes


class UnetBlock(nn.Module):
    """Upsample, resize to the skip, concatenate, two 3x3 convolutions with ReLU."""

    def __init__(self, up_in_c: int, x_in_c: int, final_div: bool = True) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(up_in_c, up_in_c // 2, kernel_size=2, stride=2)
        self.bn = nn.BatchNorm2d(x_in_c)
        ni = up_in_c // 2 + x_in_c
        nf = ni if final_div else ni // 2
        self.conv1 = nn.Conv2d(ni, nf, 3, padding=1)
        self.conv2 = nn.Conv2d(nf, nf, 3, padding=1)

    def forward(self, up_in: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.up(up_in)
        if up.shape[-2:] != skip.shape[-2:]:
            up = F.interpolate(up, size=skip.shape[-2:], mode="nearest")
        x = F.relu(torch.cat([up, self.bn(skip)], dim=1))
        return F.relu(self.conv2(F.relu(self.conv1(x))))
# END SOLUTION


class UNet(nn.Module):
    """A U-Net on ``encoder`` with ``n_out`` output channels, built for images of ``img_size``.

    ``encoder``: an ``nn.Sequential`` (e.g. ``create_body(resnet34())``); ``img_size``:
    ``(height, width)`` used for the dummy pass that finds the skip layers. ``forward(x)`` maps
    ``(N, C, H, W)`` to ``(N, n_out, H, W)`` for any ``H, W >= 32``.

    Attributes the checks use: ``encoder`` (the given one), ``middle``, ``blocks`` (``nn.ModuleList``
    of decoder blocks, deepest skip first, each with ``up``, optionally ``bn``, ``conv1``, ``conv2``),
    ``up_final`` (optional) and ``head``, wired as the module docstring says.
    """

    def __init__(self, encoder: nn.Sequential, n_out: int, img_size: tuple[int, int]) -> None:
        super().__init__()
        # BEGIN SOLUTION
        img_size = (int(img_size[0]), int(img_size[1]))
        self.encoder = encoder
        shapes = _layer_shapes(encoder, img_size)
        widths = [s[-1] for s in shapes]
        idxs = [i for i in range(len(widths) - 1) if widths[i] != widths[i + 1]]
        self.skip_idxs = list(reversed(idxs))
        ni = int(shapes[-1][1])
        self.middle = nn.Sequential(nn.Conv2d(ni, 2 * ni, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(2 * ni, ni, 3, padding=1), nn.ReLU())
        blocks, up_c = [], ni
        for i, idx in enumerate(self.skip_idxs):
            block = UnetBlock(up_c, int(shapes[idx][1]), final_div=i != len(self.skip_idxs) - 1)
            blocks.append(block)
            up_c = block.conv2.out_channels
        self.blocks = nn.ModuleList(blocks)
        self.up_final = (nn.ConvTranspose2d(up_c, up_c, kernel_size=2, stride=2)
                         if tuple(shapes[0][-2:]) != img_size else None)
        c_in = _in_channels(encoder)
        self.head = nn.Sequential(nn.Conv2d(up_c + c_in, up_c, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(up_c, n_out, kernel_size=1))
        for part in (self.middle, self.blocks, self.up_final, self.head):  # fastai's apply_init
            for m in part.modules() if part is not None else ():
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.kaiming_normal_(m.weight)
                    nn.init.zeros_(m.bias)
        nn.init.zeros_(self.head[-1].weight)  # start from "no opinion": logits 0 everywhere
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` -> ``(N, n_out, H, W)``."""
        # BEGIN SOLUTION
        skips, h = {}, x
        for i, layer in enumerate(self.encoder):
            h = layer(h)
            if i in self.skip_idxs:
                skips[i] = h
        h = self.middle(h)
        for idx, block in zip(self.skip_idxs, self.blocks):
            h = block(h, skips[idx])
        if self.up_final is not None:
            h = self.up_final(h)
        if h.shape[-2:] != x.shape[-2:]:
            h = F.interpolate(h, size=x.shape[-2:], mode="nearest")
        return self.head(torch.cat([h, x], dim=1))
        # END SOLUTION
