"""Mistake: the decoder blocks only upsample; the skip activations are never concatenated (no U, just an hourglass)."""


class UnetBlock(nn.Module):
    def __init__(self, up_in_c, x_in_c, final_div=True):
        super().__init__()
        self.up = nn.ConvTranspose2d(up_in_c, up_in_c // 2, kernel_size=2, stride=2)
        ni = up_in_c // 2
        self.conv1 = nn.Conv2d(ni, ni, 3, padding=1)
        self.conv2 = nn.Conv2d(ni, ni, 3, padding=1)

    def forward(self, up_in, skip):
        up = self.up(up_in)
        if up.shape[-2:] != skip.shape[-2:]:
            up = F.interpolate(up, size=skip.shape[-2:], mode="nearest")
        return F.relu(self.conv2(F.relu(self.conv1(F.relu(up)))))
