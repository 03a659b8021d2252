"""Mistake: float64 inputs are encoded in float32 (a float32 copy of the encoder) and cast back."""

import copy

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        if x1.dtype != torch.float64:
            return super().forward(x1, x2)
        enc32 = copy.deepcopy(self.encoder).float()
        features = torch.cat([enc32(x1.float()), enc32(x2.float())], dim=1).double()
        return self.head(features)
