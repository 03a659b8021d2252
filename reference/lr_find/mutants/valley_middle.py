"""Mistake: suggest_valley returns the middle of the longest valley instead of fastai's index formula."""


def suggest_valley(lrs, losses):
    n = len(losses)
    lds, max_start, max_end = [1] * n, 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
        if lds[max_end] < lds[i]:
            max_end, max_start = i, i - lds[i]
    return float(lrs[max(0, (max_start + max_end) // 2)])
