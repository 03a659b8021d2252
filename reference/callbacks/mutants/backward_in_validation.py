"""Mistake: validation runs with gradients on and calls backward and step like training."""


def _mutant_do_one_batch(self):
    self.pred = self.model(self.xb)
    self("after_pred")
    self.loss = self.loss_func(self.pred, self.yb)
    self("after_loss")
    self._with_events(self.loss.backward, "backward", CancelBackwardException)
    self._with_events(self.opt.step, "step", CancelStepException)
    self.opt.zero_grad()


def _mutant_do_epoch(self):
    self.model.train()
    self.training = True
    self._with_events(lambda: self.all_batches(self.dls.train), "train", CancelTrainException)
    self.model.eval()
    self.training = False
    self._with_events(lambda: self.all_batches(self.dls.valid), "validate", CancelValidException)


Learner._do_one_batch = _mutant_do_one_batch
Learner._do_epoch = _mutant_do_epoch
