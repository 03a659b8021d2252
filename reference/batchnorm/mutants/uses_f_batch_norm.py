"""Mistake: calls the forbidden F.batch_norm instead of computing the normalisation."""

import torch.nn.functional as F

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def forward(self, x):
        if self.training:
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)
