"""Mistake: the identity path downsamples with a strided 1x1 conv + BN (torchvision's shortcut) instead of AvgPool2d."""

_SolutionResBlock = ResBlock


class ResBlock(_SolutionResBlock):
    def __init__(self, ni, nf, stride=1):
        super().__init__(ni, nf, stride)
        if stride != 1 or ni != nf:
            self.idpath = nn.Sequential(nn.Conv2d(ni, nf, 1, stride=stride, bias=False), nn.BatchNorm2d(nf))
