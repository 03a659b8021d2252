"""Mistake: cb.learn is only set in fit, so after_create runs on callbacks without a Learner."""

_solution_init = Learner.__init__
_solution_fit = Learner.fit


def _mutant_init(self, model, dls, loss_func, opt_func, lr=1e-2, cbs=()):
    for cb in cbs:
        cb.learn = None
    self.cbs = list(cbs)
    self.model, self.dls, self.loss_func, self.opt_func, self.lr = model, dls, loss_func, opt_func, lr
    self.opt, self.training, self.n_epoch, self.epoch, self.iter, self.n_iter = None, False, 1, 0, 0, 0
    self.xb = self.yb = self.pred = self.loss = None
    self("after_create")


def _mutant_fit(self, n_epoch):
    for cb in self.cbs:
        cb.learn = self
    _solution_fit(self, n_epoch)


Learner.__init__ = _mutant_init
Learner.fit = _mutant_fit
