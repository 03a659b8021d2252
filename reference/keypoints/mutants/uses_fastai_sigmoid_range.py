"""Mistake: the head uses fastai's sigmoid_range (forbidden: from scratch)."""

from fastai.layers import sigmoid_range as _fastai_sigmoid_range

_Solution = KeypointModel


class KeypointModel(_Solution):
    def forward(self, x):
        z = self.head(self.encoder(x).flatten(1))
        return _fastai_sigmoid_range(z, *self.y_range).view(x.shape[0], self.n_points, 2)
