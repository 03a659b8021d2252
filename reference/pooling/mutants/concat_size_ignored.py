"""Mistake: AdaptiveConcatPool2d ignores its size and always pools to 1x1."""


class AdaptiveConcatPool2d(AdaptiveConcatPool2d):
    def forward(self, x):
        return torch.cat([_adaptive_max_pool2d(x, 1), adaptive_avg_pool2d(x, 1)], dim=1)
