"""Mistake: SiameseTransform takes any item as the partner, so only ~1/k of the pairs are same-class."""

_SolutionSiameseTransform = SiameseTransform


class SiameseTransform(_SolutionSiameseTransform):
    def _draw(self, i):
        j = random.randrange(len(self.items))
        return j, self.labels[j] == self.labels[i]
