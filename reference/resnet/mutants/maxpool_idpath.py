"""Mistake: the identity path max-pools (MaxPool2d) instead of average-pooling."""

_SolutionResBlock = ResBlock


class ResBlock(_SolutionResBlock):
    def __init__(self, ni, nf, stride=1):
        super().__init__(ni, nf, stride)
        if stride != 1:
            self.idpath[0] = nn.MaxPool2d(stride, ceil_mode=True)
