"""Mistake: base_lr is not halved before the second phase."""


def fine_tune(learn, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
    learn.freeze()
    if base_lr is None:
        base_lr = suggest_lr(learn)
    fit_one_cycle(learn, freeze_epochs, slice(base_lr), pct_start=0.99)
    learn.unfreeze()
    fit_one_cycle(learn, epochs, slice(base_lr / lr_mult, base_lr), pct_start=pct_start, div=div)
