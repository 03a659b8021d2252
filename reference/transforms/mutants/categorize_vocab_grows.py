"""Mistake: Categorize adds labels it has not seen in set-up to the vocab (validation labels leak in)."""

_SolutionCategorize = Categorize


class Categorize(_SolutionCategorize):
    def encodes(self, o):
        if o not in self.o2i:
            self.vocab = sorted(set(self.vocab) | {o})
            self.o2i = {v: i for i, v in enumerate(self.vocab)}
        return torch.tensor(self.o2i[o])
