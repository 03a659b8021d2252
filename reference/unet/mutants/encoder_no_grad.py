"""Mistake: the encoder runs under torch.no_grad() ("it is pretrained anyway"), so it never learns."""

_Solution = UNet


class UNet(_Solution):
    def forward(self, x):
        skips, h = {}, x
        with torch.no_grad():
            for i, layer in enumerate(self.encoder):
                h = layer(h)
                if i in self.skip_idxs:
                    skips[i] = h
        h = self.middle(h)
        for idx, block in zip(self.skip_idxs, self.blocks):
            h = block(h, skips[idx])
        if self.up_final is not None:
            h = self.up_final(h)
        if h.shape[-2:] != x.shape[-2:]:
            h = F.interpolate(h, size=x.shape[-2:], mode="nearest")
        return self.head(torch.cat([h, x], dim=1))
