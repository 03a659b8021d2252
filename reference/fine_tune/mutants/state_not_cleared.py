"""Mistake: freeze/unfreeze keep the optimizer's statistics (Adam's averages carry over into the second phase)."""


class Learner(Learner):
    def freeze_to(self, n):
        if self.opt is None:
            self.create_opt()
        self.opt.freeze_to(n)
