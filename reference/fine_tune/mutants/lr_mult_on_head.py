"""Mistake: lr_mult multiplies the head's rate (slice(base_lr, base_lr * lr_mult)) instead of dividing the body's."""


def fine_tune(learn, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
    learn.freeze()
    if base_lr is None:
        base_lr = suggest_lr(learn)
    fit_one_cycle(learn, freeze_epochs, slice(base_lr), pct_start=0.99)
    base_lr /= 2
    learn.unfreeze()
    fit_one_cycle(learn, epochs, slice(base_lr, base_lr * lr_mult), pct_start=pct_start, div=div)
