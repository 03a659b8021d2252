# --- appended to the solution of one_cycle.py: every schedule forwarded to fastai.callback.schedule -----
# Each function keeps its name and signature and calls fastai's; one_cycle_schedule still works on
# top of them. Every value check passes; the from-scratch gate must take all points away.

from fastai.callback import schedule as _fs


def sched_lin(start, end, pos):
    return float(_fs.sched_lin(start, end, pos))


def sched_cos(start, end, pos):
    return float(_fs.sched_cos(start, end, pos))


def sched_no(start, end, pos):
    return float(_fs.sched_no(start, end, pos))


def sched_exp(start, end, pos):
    return float(_fs.sched_exp(start, end, pos))


def combine_scheds(pcts, scheds):
    f = _fs.combine_scheds(list(pcts), list(scheds))
    return lambda pos: float(f(pos))


def combined_cos(pct, start, middle, end):
    f = _fs.combined_cos(pct, start, middle, end)
    return lambda pos: float(f(pos))
