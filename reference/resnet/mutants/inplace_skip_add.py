"""Mistake: the conv path is added in place onto the skip tensor (x += ...), which with the identity path is the input."""


class ResBlock(ResBlock):
    def forward(self, x):
        out = self.convs(x)
        x = self.idpath(x)
        x += out
        return F.relu(x)
