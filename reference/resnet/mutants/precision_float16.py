"""Mistake (precision): the block runs under torch.autocast in float16 (mixed precision) and casts back."""


class ResBlock(ResBlock):
    def forward(self, x):
        with torch.autocast(x.device.type, dtype=torch.float16):
            out = super().forward(x)
        return out.to(x.dtype)
