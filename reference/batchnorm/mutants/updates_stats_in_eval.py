"""Mistake: evaluation mode uses the running statistics but still updates them with every batch."""

import torch

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def forward(self, x):
        if self.training:
            return super().forward(x)
        y = super().forward(x)
        with torch.no_grad():
            n = x.numel() // x.shape[1]
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False) * n / max(n - 1, 1)
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        return y
