"""Mistake: freeze_to ignores force_train, so a frozen body's BatchNorm layers stop training too."""


class GroupOptimizer(GroupOptimizer):
    def freeze_to(self, n):
        frozen = n if n >= 0 else len(self.param_lists) + n
        for i, group in enumerate(self.param_lists):
            for p in group:
                p.requires_grad_(i >= frozen)
