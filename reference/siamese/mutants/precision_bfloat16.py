"""Mistake: the concatenated features are computed in bfloat16 and cast back."""

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        features = torch.cat([self.encoder(x1), self.encoder(x2)], dim=1)
        return self.head(features.bfloat16().to(x1.dtype))
