"""Mistake: the 1x1 projection is added only when the stride changes, not when the width changes (ni != nf)."""

_SolutionResBlock = ResBlock


class ResBlock(_SolutionResBlock):
    def __init__(self, ni, nf, stride=1):
        super().__init__(ni, nf, stride)
        if stride != 1:
            self.idpath = nn.Sequential(nn.AvgPool2d(stride, ceil_mode=True), nn.Conv2d(ni, nf, 1, bias=False),
                                        nn.BatchNorm2d(nf))
        else:
            self.idpath = nn.Sequential()
