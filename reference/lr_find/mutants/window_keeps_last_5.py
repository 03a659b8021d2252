"""Mistake: the suggestion window drops the first num_it//10 points but keeps the last 5."""


def suggestion_window(lrs, losses, num_it):
    lrs = [float(v) for v in list(lrs)[num_it // 10:]]
    losses = [float(v) for v in list(losses)[num_it // 10:]]
    for i, value in enumerate(losses):
        if math.isnan(value):
            return lrs[:i], losses[:i]
    return lrs, losses
