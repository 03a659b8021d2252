"""Mistake: the two feature vectors are added instead of concatenated."""

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        return self.head(self.encoder(x1) + self.encoder(x2))
