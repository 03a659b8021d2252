"""Mistake: NormalizeMean subtracts the mean in place (x -= mean), changing the caller's tensor."""

_SolutionNormalizeMean = NormalizeMean


class NormalizeMean(_SolutionNormalizeMean):
    def encodes(self, x: torch.Tensor):
        x -= self.mean
        return x
