"""Mistake: zero_grad sits inside the step bracket, so a cancelled step also skips zeroing the gradients."""


def _mutant_do_one_batch(self):
    self.pred = self.model(self.xb)
    self("after_pred")
    self.loss = self.loss_func(self.pred, self.yb)
    self("after_loss")
    if not self.training:
        return
    self._with_events(self.loss.backward, "backward", CancelBackwardException)

    def step():
        self.opt.step()
        self.opt.zero_grad()

    self._with_events(step, "step", CancelStepException)


Learner._do_one_batch = _mutant_do_one_batch
