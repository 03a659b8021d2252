"""Mistake (precision): the normalisation is computed in float32 (float64 input cast down) and cast back."""

import torch

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def forward(self, x):
        low = x.float()
        if self.training:
            mean = low.mean(dim=(0, 2, 3))
            var = (low - mean.view(1, -1, 1, 1)).pow(2).mean(dim=(0, 2, 3))
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean.to(x.dtype))
                self.running_var.mul_(1 - m).add_(m * var.to(x.dtype) * n / (n - 1))
                self.num_batches_tracked.add_(1)
        else:
            mean, var = self.running_mean.float(), self.running_var.float()
        x_hat = (low - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + self.eps)
        y = x_hat * self.weight.float().view(1, -1, 1, 1) + self.bias.float().view(1, -1, 1, 1)
        return y.to(x.dtype)
