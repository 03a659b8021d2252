"""Mistake: the skip is *added* to the upsampled activation (ResNet-style) instead of concatenated."""


class UnetBlock(nn.Module):
    def __init__(self, up_in_c, x_in_c, final_div=True):
        super().__init__()
        self.up = nn.ConvTranspose2d(up_in_c, x_in_c, kernel_size=2, stride=2)
        self.bn = nn.BatchNorm2d(x_in_c)
        self.conv1 = nn.Conv2d(x_in_c, x_in_c, 3, padding=1)
        self.conv2 = nn.Conv2d(x_in_c, x_in_c, 3, padding=1)

    def forward(self, up_in, skip):
        up = self.up(up_in)
        if up.shape[-2:] != skip.shape[-2:]:
            up = F.interpolate(up, size=skip.shape[-2:], mode="nearest")
        x = F.relu(up + self.bn(skip))
        return F.relu(self.conv2(F.relu(self.conv1(x))))
