"""Mistake: batch i is put at i / (n_iter - 1), so the last batch is at pos 1 (fastai: i / n_iter)."""


def one_cycle_schedule(n_iter, lr_max, div=25., div_final=1e5, pct_start=0.25, moms=(0.95, 0.85, 0.95)):
    lr_sched = combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)
    mom_sched = combined_cos(pct_start, *moms)
    positions = [i / (n_iter - 1) for i in range(n_iter)]
    return [lr_sched(p) for p in positions], [mom_sched(p) for p in positions]
