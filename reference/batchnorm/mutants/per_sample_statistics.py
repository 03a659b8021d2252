"""Mistake: mean and variance are taken per image (over H, W only), like instance norm, not over the batch."""

import torch

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def forward(self, x):
        if not self.training:
            return super().forward(x)
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
        n = x.shape[2] * x.shape[3]
        with torch.no_grad():
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(m * mean.mean(dim=(0, 2, 3)))
            self.running_var.mul_(1 - m).add_(m * var.mean(dim=(0, 2, 3)) * n / (n - 1))
            self.num_batches_tracked.add_(1)
        x_hat = (x - mean) / torch.sqrt(var + self.eps)
        return x_hat * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
