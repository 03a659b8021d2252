"""Mistake: step() decays parameters that have no gradient (fastai skips them entirely)."""

_SolutionOptimizer = Optimizer


class Optimizer(_SolutionOptimizer):
    def step(self):
        for p in self.params:
            if p.grad is None and self.hypers.get("wd"):
                p.data.mul_(1 - self.hypers["lr"] * self.hypers["wd"])
        super().step()
