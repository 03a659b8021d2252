"""Mistake: the lr_find trainer does not put the model back (restore_state forgets the weights)."""


class LearnerTrainer(LearnerTrainer):
    def restore_state(self):
        _, opt_states = self.saved
        for opt, state in zip(self.learn.opt.opts, opt_states):
            opt.state = state
