"""Appended to the solution of learner.py: fit's per-epoch dicts also carry fastai's ``epoch`` key
(fastai's Recorder logs it), first, as fastai prints it. A correct route: it must lose nothing."""

_SolutionLearner = Learner


class Learner(_SolutionLearner):  # noqa: F811
    def fit(self, n_epoch):
        history = super().fit(n_epoch)
        for epoch, row in enumerate(history):
            entries = dict(row)
            row.clear()
            row.update({"epoch": epoch, **entries})
        return history
