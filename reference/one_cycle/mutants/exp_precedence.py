"""Mistake: sched_exp written as start * end / start ** pos (operator precedence)."""


def sched_exp(start, end, pos):
    return start * end / start ** pos
