"""Mistake: the model stays in training mode during validation (no model.eval())."""


def _mutant_do_epoch(self):
    self.model.train()
    self.training = True
    self._with_events(lambda: self.all_batches(self.dls.train), "train", CancelTrainException)
    self.training = False
    with torch.no_grad():
        self._with_events(lambda: self.all_batches(self.dls.valid), "validate", CancelValidException)


Learner._do_epoch = _mutant_do_epoch
