"""Mistake: Pipeline keeps the transforms in the given order instead of sorting them by `order`."""

_SolutionPipeline = Pipeline


class Pipeline(_SolutionPipeline):
    def __init__(self, funcs=None):
        funcs = [] if funcs is None else funcs if isinstance(funcs, (list, tuple)) else [funcs]
        self.fs = [f if isinstance(f, Transform) else Transform(f) for f in funcs]
