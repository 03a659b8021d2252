"""Mistake: y_range is ignored; the sigmoid range is hard-wired to (-1, 1)."""

_Solution = KeypointModel


class KeypointModel(_Solution):
    def forward(self, x):
        z = self.head(self.encoder(x).flatten(1))
        return (torch.sigmoid(z) * 2 - 1).view(x.shape[0], self.n_points, 2)
