"""Mistake: after_loss is announced before after_pred (events out of order)."""


def _mutant_do_one_batch(self):
    self.pred = self.model(self.xb)
    self.loss = self.loss_func(self.pred, self.yb)
    self("after_loss")
    self("after_pred")
    if not self.training:
        return
    self._with_events(self.loss.backward, "backward", CancelBackwardException)
    self._with_events(self.opt.step, "step", CancelStepException)
    self.opt.zero_grad()


Learner._do_one_batch = _mutant_do_one_batch
