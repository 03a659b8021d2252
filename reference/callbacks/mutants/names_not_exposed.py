"""Mistake: the Learner keeps the predictions as `preds` and the batch count as `n_batches`, not fastai's names."""


def _mutant_do_one_batch(self):
    self.preds = self.model(self.xb)
    self("after_pred")
    self.loss = self.loss_func(self.preds, self.yb)
    self("after_loss")
    if not self.training:
        return
    self._with_events(self.loss.backward, "backward", CancelBackwardException)
    self._with_events(self.opt.step, "step", CancelStepException)
    self.opt.zero_grad()


_solution_init = Learner.__init__


def _mutant_init(self, *args, **kwargs):
    _solution_init(self, *args, **kwargs)
    del self.pred


Learner._do_one_batch = _mutant_do_one_batch
Learner.__init__ = _mutant_init
