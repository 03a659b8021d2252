"""Mistake: n_iter is set once from the training loader, so validation reports the wrong batch count."""


def _mutant_all_batches(self, dl):
    if dl is self.dls.train:
        self.n_iter = len(dl)
    for i, batch in enumerate(dl):
        self.one_batch(i, batch)


Learner.all_batches = _mutant_all_batches
