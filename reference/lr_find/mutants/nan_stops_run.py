"""Mistake: a NaN loss stops the run (written as `not smooth <= 4 * best`); fastai goes on."""


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    lrs, losses, avg, best = [], [], 0.0, math.inf
    trainer.save_state()
    for i in range(num_it):
        lr = start_lr * (end_lr / start_lr) ** (i / num_it)
        avg = beta * avg + (1 - beta) * float(trainer.train_step(lr))
        smooth = avg / (1 - beta ** (i + 1))
        lrs.append(lr)
        losses.append(smooth)
        if smooth < best:
            best = smooth
        if stop_div and not smooth <= 4 * best:
            break
    trainer.restore_state()
    return lrs, losses
