"""Mistake: suggest_steep takes the slope against lr instead of log(lr)."""


def suggest_steep(lrs, losses):
    grads = [(losses[k + 1] - losses[k]) / (lrs[k + 1] - lrs[k]) for k in range(len(losses) - 1)]
    k = min(range(len(grads)), key=lambda i: grads[i])
    return float(lrs[k])
