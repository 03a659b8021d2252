"""Mistake: a copy of the encoder, kept outside the module's parameters, encodes the second image."""

import copy

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def __init__(self, encoder, head):
        super().__init__(encoder, head)
        self._copies = [copy.deepcopy(encoder)]

    def forward(self, x1, x2):
        return self.head(torch.cat([self.encoder(x1), self._copies[0](x2)], dim=1))
