"""Mistake (precision): the scheduled hyper-parameters are rounded to float16 before they are set."""


class ParamScheduler(ParamScheduler):
    def before_batch(self):
        learn = self.learn
        if not learn.training or not self.scheds:
            return
        pos = self.train_iter / (learn.n_epoch * learn.n_iter)
        half = lambda v: float(torch.tensor(v, dtype=torch.float16))  # noqa: E731
        for name, sched in self.scheds.items():
            values = [f(pos) for f in sched] if isinstance(sched, (list, tuple)) else [sched(pos)]
            learn.opt.set_hyper(name, [half(v) for v in values])
