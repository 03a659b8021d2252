"""Mistake: when the upsampled map is larger than the skip (odd sizes) it is cropped instead of resized; with
an encoder that rounds odd sizes down (MaxPool2d(2)) the upsampled map is smaller and the concatenation fails."""


class UnetBlock(UnetBlock):  # noqa: F821 - the solution's block, defined above in the module
    def forward(self, up_in, skip):
        up = self.up(up_in)
        up = up[..., :skip.shape[-2], :skip.shape[-1]]
        x = F.relu(torch.cat([up, self.bn(skip)], dim=1))
        return F.relu(self.conv2(F.relu(self.conv1(x))))
