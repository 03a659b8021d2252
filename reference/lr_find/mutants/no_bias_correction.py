"""Mistake: the moving average of the loss is recorded without bias correction (no / (1 - beta**k))."""


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    lrs, losses, avg, best = [], [], 0.0, math.inf
    trainer.save_state()
    for i in range(num_it):
        lr = start_lr * (end_lr / start_lr) ** (i / num_it)
        avg = beta * avg + (1 - beta) * float(trainer.train_step(lr))
        lrs.append(lr)
        losses.append(avg)
        best = min(best, avg)
        if stop_div and avg > 4 * best:
            break
    trainer.restore_state()
    return lrs, losses
