"""Mistake: the features are concatenated along the batch (dim 0) instead of the features (dim 1)."""

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        return self.head(torch.cat([self.encoder(x1), self.encoder(x2)], dim=0))
