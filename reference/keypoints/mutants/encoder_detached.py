"""Mistake: the encoder's features are detached, so training never reaches the encoder (only the head learns)."""

_Solution = KeypointModel


class KeypointModel(_Solution):
    def forward(self, x):
        z = self.head(self.encoder(x).flatten(1).detach())
        low, high = self.y_range
        return (torch.sigmoid(z) * (high - low) + low).view(x.shape[0], self.n_points, 2)
