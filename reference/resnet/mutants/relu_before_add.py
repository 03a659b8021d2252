"""Mistake: the ReLU is applied to the conv path before the addition (relu(convs(x)) + idpath(x)), not after it."""


class ResBlock(ResBlock):
    def forward(self, x):
        return F.relu(self.convs(x)) + self.idpath(x)
