"""Mistake: the raw losses are recorded (and compared with 4x the best) instead of the smoothed ones."""


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    lrs, losses, best = [], [], math.inf
    trainer.save_state()
    for i in range(num_it):
        lr = start_lr * (end_lr / start_lr) ** (i / num_it)
        loss = float(trainer.train_step(lr))
        lrs.append(lr)
        losses.append(loss)
        best = min(best, loss)
        if stop_div and loss > 4 * best:
            break
    trainer.restore_state()
    return lrs, losses
