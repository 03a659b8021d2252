"""Mistake: one state dict shared by all parameters (grad_avg of one parameter leaks into the next)."""


class Optimizer(Optimizer):  # noqa: F811 - the solution's class, with a shared state
    def step(self):
        shared = {}
        for p in self.params:
            if p.grad is None:
                continue
            for cb in self.cbs:
                new = cb(p, **{**shared, **self.hypers})
                if isinstance(new, dict):
                    shared.update(new)
            self.state[p] = shared
