"""Mistake: the BatchNorm is not the last module of convs: a ReLU ends the conv path (conv-BN-ReLU twice)."""

_SolutionResBlock = ResBlock


class ResBlock(_SolutionResBlock):
    def __init__(self, ni, nf, stride=1):
        super().__init__(ni, nf, stride)
        self.convs.append(nn.ReLU())
