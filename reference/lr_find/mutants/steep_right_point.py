"""Mistake: suggest_steep returns the right end of the steepest segment (fastai: the left one)."""


def suggest_steep(lrs, losses):
    grads = [(losses[k + 1] - losses[k]) / (math.log(lrs[k + 1]) - math.log(lrs[k])) for k in range(len(losses) - 1)]
    k = min(range(len(grads)), key=lambda i: grads[i])
    return float(lrs[k + 1])
