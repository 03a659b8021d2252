"""Mistake: reaches torch.batch_norm through a computed getattr, hiding the name from a source scan."""

import torch

_Solution = BatchNorm2d
_name = "batch" + "_norm"


class BatchNorm2d(_Solution):
    def forward(self, x):
        if self.training:
            self.num_batches_tracked.add_(1)
        return getattr(torch, _name)(x, self.weight, self.bias, self.running_mean, self.running_var, self.training,
                                     self.momentum, self.eps, False)
