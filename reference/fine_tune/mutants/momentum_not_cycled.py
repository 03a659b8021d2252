"""Mistake: fit_one_cycle schedules only the learning rate; the momentum stays where it is."""


def fit_one_cycle(learn, n_epoch, lr_max=None, div=25., div_final=1e5, pct_start=0.25, moms=None):
    if learn.opt is None:
        learn.create_opt()
    learn.opt.set_hyper("lr", learn.lr if lr_max is None else lr_max)
    tops = [h["lr"] for h in learn.opt.hypers]
    learn.scheduler.scheds = {"lr": [combined_cos(pct_start, top / div, top, top / div_final) for top in tops]}
    try:
        learn.fit(n_epoch)
    finally:
        learn.scheduler.scheds = {}
