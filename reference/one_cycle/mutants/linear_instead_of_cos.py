"""Mistake: sched_cos anneals linearly (the cosine shape is missing)."""


def sched_cos(start, end, pos):
    return start + pos * (end - start)
