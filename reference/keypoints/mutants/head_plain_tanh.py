"""Mistake: the head ends in tanh(z) scaled to y_range instead of fastai's sigmoid range (that is tanh(z / 2))."""

_Solution = KeypointModel


class KeypointModel(_Solution):
    def forward(self, x):
        z = self.head(self.encoder(x).flatten(1))
        low, high = self.y_range
        return (torch.tanh(z) * (high - low) / 2 + (high + low) / 2).view(x.shape[0], self.n_points, 2)
