"""Mistake: the second phase gives the body the head's rate and the head the body's (groups in the wrong order)."""


def fine_tune(learn, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
    learn.freeze()
    if base_lr is None:
        base_lr = suggest_lr(learn)
    fit_one_cycle(learn, freeze_epochs, slice(base_lr), pct_start=0.99)
    base_lr /= 2
    learn.unfreeze()
    rates = lr_range(slice(base_lr / lr_mult, base_lr), len(learn.opt.hypers))[::-1]
    fit_one_cycle(learn, epochs, rates, pct_start=pct_start, div=div)
