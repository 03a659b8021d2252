"""Mistake: the learning rate grows linearly from start_lr to end_lr instead of exponentially."""

_solution_lr_find = lr_find


class _LinearTrainer:
    """Hands the solution's exponential learning rates on as linear ones."""

    def __init__(self, trainer, start_lr, end_lr, num_it):
        self.trainer, self.start, self.end, self.num_it, self.i = trainer, start_lr, end_lr, num_it, 0

    def save_state(self):
        self.trainer.save_state()

    def restore_state(self):
        self.trainer.restore_state()

    def train_step(self, lr):
        lr = self.start + (self.end - self.start) * self.i / self.num_it
        self.i += 1
        return self.trainer.train_step(lr)


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    lrs, losses = _solution_lr_find(_LinearTrainer(trainer, start_lr, end_lr, num_it), start_lr, end_lr, num_it,
                                    stop_div, beta)
    return [start_lr + (end_lr - start_lr) * i / num_it for i in range(len(lrs))], losses
