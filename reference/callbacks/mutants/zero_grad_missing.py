"""Mistake: opt.zero_grad() is never called, so gradients pile up from batch to batch."""


def _mutant_do_one_batch(self):
    self.pred = self.model(self.xb)
    self("after_pred")
    self.loss = self.loss_func(self.pred, self.yb)
    self("after_loss")
    if not self.training:
        return
    self._with_events(self.loss.backward, "backward", CancelBackwardException)
    self._with_events(self.opt.step, "step", CancelStepException)


Learner._do_one_batch = _mutant_do_one_batch
