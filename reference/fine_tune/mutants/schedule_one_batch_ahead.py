"""Mistake: the scheduler counts the current batch as done: pos = (train_iter + 1) / (n_epoch * n_iter)."""


class ParamScheduler(ParamScheduler):
    def before_batch(self):
        learn = self.learn
        if not learn.training or not self.scheds:
            return
        pos = (self.train_iter + 1) / (learn.n_epoch * learn.n_iter)
        for name, sched in self.scheds.items():
            learn.opt.set_hyper(name, [f(pos) for f in sched] if isinstance(sched, (list, tuple)) else sched(pos))
