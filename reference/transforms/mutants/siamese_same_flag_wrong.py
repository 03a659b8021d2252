"""Mistake: `same` is drawn but the partner is taken from the opposite kind of class (flag inverted)."""

_SolutionSiameseTransform = SiameseTransform


class SiameseTransform(_SolutionSiameseTransform):
    def _draw(self, i):
        j, same = _SolutionSiameseTransform._draw(self, i)
        return j, not same
