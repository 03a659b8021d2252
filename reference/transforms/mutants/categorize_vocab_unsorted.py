"""Mistake: Categorize's vocab keeps the labels in order of first appearance instead of sorting them."""

_SolutionCategorize = Categorize


class Categorize(_SolutionCategorize):
    def setups(self, items):
        self.vocab = list(dict.fromkeys(items))
        self.o2i = {o: i for i, o in enumerate(self.vocab)}
