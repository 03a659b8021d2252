"""Mistake: the first stage is strided too (its first block has stride 2); the first stage keeps the size."""

_SolutionResNet = ResNet


class ResNet(_SolutionResNet):
    def __init__(self, n_in, n_out, layers=(1, 1, 1, 1), widths=(16, 32, 64, 128)):
        nn.Module.__init__(self)
        self.stem = nn.Sequential(nn.Conv2d(n_in, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        stages, ni = [], widths[0]
        for n_blocks, nf in zip(layers, widths):
            blocks = []
            for j in range(n_blocks):
                blocks.append(ResBlock(ni, nf, stride=2 if j == 0 else 1))
                ni = nf
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(widths[-1], n_out)
