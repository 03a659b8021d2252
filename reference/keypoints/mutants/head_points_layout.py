"""Mistake: the 2 * n_points outputs are read as (2, n_points) (all x, then all y) instead of (n_points, 2)."""

_Solution = KeypointModel


class KeypointModel(_Solution):
    def forward(self, x):
        z = self.head(self.encoder(x).flatten(1))
        low, high = self.y_range
        out = torch.sigmoid(z) * (high - low) + low
        return out.view(x.shape[0], 2, self.n_points).transpose(1, 2)
