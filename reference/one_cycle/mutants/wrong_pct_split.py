"""Mistake: the warm-up takes 1 - pct_start of the run (the phases are swapped in length)."""


def one_cycle_schedule(n_iter, lr_max, div=25., div_final=1e5, pct_start=0.25, moms=(0.95, 0.85, 0.95)):
    lr_sched = combined_cos(1 - pct_start, lr_max / div, lr_max, lr_max / div_final)
    mom_sched = combined_cos(1 - pct_start, *moms)
    positions = [i / n_iter for i in range(n_iter)]
    return [lr_sched(p) for p in positions], [mom_sched(p) for p in positions]
