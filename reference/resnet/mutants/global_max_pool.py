"""Mistake: the ResNet pools globally with the maximum instead of the mean (global average pooling)."""


class ResNet(ResNet):
    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(x.amax(dim=(2, 3)))
