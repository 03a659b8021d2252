"""Mistake: SiameseTransform draws a new partner at every call, validation indices too."""

_SolutionSiameseTransform = SiameseTransform


class SiameseTransform(_SolutionSiameseTransform):
    def encodes(self, i):
        i = int(i)
        j, same = self._draw(i)
        return (self.items[i], self.items[j], same)
