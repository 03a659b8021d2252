"""Mistake: a position exactly on a phase boundary goes to the earlier phase (pos > boundary test)."""


def combine_scheds(pcts, scheds):
    bounds = [0.0]
    for p in pcts:
        bounds.append(bounds[-1] + p)

    def _combined(pos):
        idx = 0
        for k in range(len(pcts)):
            if pos > bounds[k]:
                idx = k
        return scheds[idx]((pos - bounds[idx]) / (bounds[idx + 1] - bounds[idx]))

    return _combined
