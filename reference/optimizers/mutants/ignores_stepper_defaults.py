"""Mistake: Optimizer ignores the steppers' `defaults` (only the keyword arguments become hypers)."""

_SolutionOptimizer = Optimizer


class Optimizer(_SolutionOptimizer):
    def __init__(self, params, cbs, **defaults):
        super().__init__(params, cbs, **defaults)
        self.hypers = dict(defaults)
