# --- appended to the solution's unet.py: a correct route the checks must accept. conv1 is an
# nn.Sequential that starts with a Conv2d (Conv2d, BatchNorm2d, ReLU: fastai's ConvLayer), conv2 is a
# home-made nn.Sequential subclass, the ReLU sits inside both, the block keeps a parameter-free ReLU of
# its own, there is no BatchNorm on the skip, the final upsampling is an nn.Upsample and the head has
# no last cross.


class ConvLayer(nn.Sequential):
    def __init__(self, ni, nf):
        super().__init__(nn.Conv2d(ni, nf, 3, padding=1), nn.BatchNorm2d(nf), nn.ReLU(inplace=True))
        self.out_channels = nf


class UnetBlock(nn.Module):
    def __init__(self, up_in_c, x_in_c, final_div=True):
        super().__init__()
        self.up = nn.ConvTranspose2d(up_in_c, up_in_c // 2, kernel_size=2, stride=2)
        ni = up_in_c // 2 + x_in_c
        nf = ni if final_div else ni // 2
        self.conv1 = nn.Sequential(nn.Conv2d(ni, nf, 3, padding=1), nn.BatchNorm2d(nf), nn.ReLU())
        self.conv2 = ConvLayer(nf, nf)
        self.relu = nn.ReLU()

    def forward(self, up_in, skip):
        up = self.up(up_in)
        if up.shape[-2:] != skip.shape[-2:]:
            up = F.interpolate(up, size=skip.shape[-2:], mode="nearest")
        return self.conv2(self.conv1(self.relu(torch.cat([up, skip], dim=1))))


_Solution = UNet


class UNet(_Solution):
    def __init__(self, encoder, n_out, img_size):
        super().__init__(encoder, n_out, img_size)
        c = self.blocks[-1].conv2[0].out_channels
        if self.up_final is not None:
            self.up_final = nn.Upsample(scale_factor=2, mode="nearest")
        self.head = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, n_out, 1))

    def forward(self, x):
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
        return self.head(F.interpolate(h, size=x.shape[-2:], mode="nearest"))
