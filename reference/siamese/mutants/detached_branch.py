"""Mistake: the second image's features are computed without gradient (detached branch)."""

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        return self.head(torch.cat([self.encoder(x1), self.encoder(x2).detach()], dim=1))
