"""Mistake: batch i is trained at the next batch's learning rate, while lrs records the right one."""


class _NextLr:
    def __init__(self, trainer, factor):
        self.trainer, self.factor = trainer, factor
        self.save_state, self.restore_state = trainer.save_state, trainer.restore_state

    def train_step(self, lr):
        return self.trainer.train_step(lr * self.factor)


_solution_lr_find = lr_find


def lr_find(trainer, start_lr=1e-7, end_lr=10, num_it=100, stop_div=True, beta=0.98):
    factor = (end_lr / start_lr) ** (1 / max(int(num_it), 6))
    return _solution_lr_find(_NextLr(trainer, factor), start_lr, end_lr, num_it, stop_div, beta)
