"""Mistake: Pipeline sorts the caller's list in place (funcs.sort) instead of a copy."""

_SolutionPipeline = Pipeline


class Pipeline(_SolutionPipeline):
    def __init__(self, funcs=None):
        if isinstance(funcs, list):
            funcs.sort(key=lambda f: getattr(f, "order", 0))
        super().__init__(funcs)
