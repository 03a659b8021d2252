"""Mistake: sched_cos uses cos(pi * pos), so it runs from end to start."""


def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * pos)) * (end - start) / 2
