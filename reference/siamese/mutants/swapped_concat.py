"""Mistake: the features are concatenated in the order [encoder(x2), encoder(x1)]."""

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        return self.head(torch.cat([self.encoder(x2), self.encoder(x1)], dim=1))
