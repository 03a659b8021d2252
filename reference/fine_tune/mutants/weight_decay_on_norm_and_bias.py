"""Mistake: create_opt does not mark BatchNorm and bias parameters with do_wd=False (wd_bn_bias ignored)."""


class Learner(Learner):
    def create_opt(self):
        self.opt = GroupOptimizer(self.splitter(self.model), self.group_opt_func, self.lr)
        if self.train_bn:
            for p in norm_bias_params(self.model, with_bias=False):
                self.opt.state_of(p)["force_train"] = True
