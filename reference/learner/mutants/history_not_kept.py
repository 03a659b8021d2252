"""Mistake: fit returns the history but does not keep it as learn.history."""

_SolutionLearner = Learner


class Learner(_SolutionLearner):  # noqa: F811
    def fit(self, n_epoch):
        history = super().fit(n_epoch)
        self.history = []
        return history
