"""Mistake: no resize to the input's size at the end, so odd sizes come out a pixel too large (33 -> 17 -> 34)."""

_Solution = UNet


class UNet(_Solution):
    def forward(self, x):
        skips, h = {}, x
        for i, layer in enumerate(self.encoder):
            h = layer(h)
            if i in self.skip_idxs:
                skips[i] = h
        h = self.middle(h)
        for idx, block in zip(self.skip_idxs, self.blocks):
            h = block(h, skips[idx])
        if self.up_final is not None:
            h = self.up_final(h)
        x = F.pad(x, (0, h.shape[-1] - x.shape[-1], 0, h.shape[-2] - x.shape[-2]))  # to make the cat fit
        return self.head(torch.cat([h, x], dim=1))
