"""Mistake: zero_grad forgets the gradients only in a local copy, so they accumulate."""

_SolutionOptimizer = Optimizer


class Optimizer(_SolutionOptimizer):
    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                g = p.grad.clone()
                g.zero_()
