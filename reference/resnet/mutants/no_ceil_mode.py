"""Mistake: the identity path's AvgPool2d lacks ceil_mode=True, so odd sizes don't match the strided conv path."""

_SolutionResBlock = ResBlock


class ResBlock(_SolutionResBlock):
    def __init__(self, ni, nf, stride=1):
        super().__init__(ni, nf, stride)
        if stride != 1:
            self.idpath[0] = nn.AvgPool2d(stride)
