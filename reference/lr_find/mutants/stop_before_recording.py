"""Mistake: the diverging batch is not recorded (the 4x-best test comes before appending)."""


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    lrs, losses, avg, best = [], [], 0.0, math.inf
    trainer.save_state()
    for i in range(num_it):
        lr = start_lr * (end_lr / start_lr) ** (i / num_it)
        avg = beta * avg + (1 - beta) * float(trainer.train_step(lr))
        smooth = avg / (1 - beta ** (i + 1))
        if smooth < best:
            best = smooth
        if stop_div and smooth > 4 * best:
            break
        lrs.append(lr)
        losses.append(smooth)
    trainer.restore_state()
    return lrs, losses
