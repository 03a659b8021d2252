"""Precision mistake: the concat pool casts float64 inputs to float32, computes, and casts back."""


class AdaptiveConcatPool2d(nn.Module):
    def __init__(self, size=1):
        super().__init__()
        self.size = size

    def forward(self, x):
        h = x.float()
        out = torch.cat([F.adaptive_max_pool2d(h, self.size), F.adaptive_avg_pool2d(h, self.size)], dim=1)
        return out.to(x.dtype)
