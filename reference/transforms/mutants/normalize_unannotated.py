"""Mistake: NormalizeMean's encodes/decodes lost their `x: torch.Tensor` annotation (no type dispatch)."""

_SolutionNormalizeMean = NormalizeMean


class NormalizeMean(Transform):
    def setups(self, items):
        _SolutionNormalizeMean.setups(self, items)

    def encodes(self, x):
        return x - self.mean

    def decodes(self, x):
        return x + self.mean
