"""Mistake (a naming slip): the block's first convolution is called `conv_a` instead of `conv1`. Only the check
that reads conv1 may fail; the pairing, gradient and encoder checks still judge the rest."""


class UnetBlock(nn.Module):
    def __init__(self, up_in_c, x_in_c, final_div=True):
        super().__init__()
        self.up = nn.ConvTranspose2d(up_in_c, up_in_c // 2, kernel_size=2, stride=2)
        self.bn = nn.BatchNorm2d(x_in_c)
        ni = up_in_c // 2 + x_in_c
        nf = ni if final_div else ni // 2
        self.conv_a = nn.Conv2d(ni, nf, 3, padding=1)
        self.conv2 = nn.Conv2d(nf, nf, 3, padding=1)

    def forward(self, up_in, skip):
        up = self.up(up_in)
        if up.shape[-2:] != skip.shape[-2:]:
            up = F.interpolate(up, size=skip.shape[-2:], mode="nearest")
        x = F.relu(torch.cat([up, self.bn(skip)], dim=1))
        return F.relu(self.conv2(F.relu(self.conv_a(x))))
