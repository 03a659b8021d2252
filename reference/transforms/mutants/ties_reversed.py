"""Mistake: transforms with equal `order` end up in reverse of the given order (sort not stable)."""

_SolutionPipeline = Pipeline


class Pipeline(_SolutionPipeline):
    def __init__(self, funcs=None):
        super().__init__(funcs)
        self.fs = sorted(self.fs[::-1], key=lambda f: getattr(f, "order", 0))
