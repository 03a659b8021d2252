"""Mistake: validation is not wrapped in torch.no_grad() (it builds graphs for nothing)."""


def _mutant_do_epoch(self):
    self.model.train()
    self.training = True
    self._with_events(lambda: self.all_batches(self.dls.train), "train", CancelTrainException)
    self.model.eval()
    self.training = False
    self._with_events(lambda: self.all_batches(self.dls.valid), "validate", CancelValidException)


Learner._do_epoch = _mutant_do_epoch
