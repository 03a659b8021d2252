"""Mistake: combine_scheds hands every phase the global position instead of resetting it to 0..1."""


def combine_scheds(pcts, scheds):
    bounds = [0.0]
    for p in pcts:
        bounds.append(bounds[-1] + p)

    def _combined(pos):
        idx = 0
        for k in range(len(pcts)):
            if pos >= bounds[k]:
                idx = k
        return scheds[idx](pos)

    return _combined
