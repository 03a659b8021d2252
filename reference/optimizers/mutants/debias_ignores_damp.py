"""Mistake: debias returns 1 - mom**step whatever damp is (right only when damp == 1 - mom)."""


def debias(mom, damp, step):
    return 1 - mom**step
