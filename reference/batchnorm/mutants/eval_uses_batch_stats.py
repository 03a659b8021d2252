"""Mistake: evaluation mode is ignored; the layer always normalises with the batch's statistics."""

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def forward(self, x):
        was = self.training
        self.training = True
        try:
            return super().forward(x)
        finally:
            self.training = was
