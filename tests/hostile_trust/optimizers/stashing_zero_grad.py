# --- appended to the solution of optimizers.py: a zero_grad that only looks as if it worked -----------
# zero_grad() stashes the gradients and zeroes them, so whoever looks at p.grad right after it sees
# zeros (all the old check looked at); step() then adds the stash back, so the gradients accumulate
# from step to step after all. The check must judge what zero_grad does to the next step's numbers.

_SolutionOptimizer = Optimizer


class Optimizer(_SolutionOptimizer):
    def zero_grad(self):
        self._stash = [None if p.grad is None else p.grad.clone() for p in self.params]
        super().zero_grad()

    def step(self):
        for p, old in zip(self.params, getattr(self, "_stash", [])):
            if old is not None and p.grad is not None:
                p.grad.add_(old)
        super().step()
