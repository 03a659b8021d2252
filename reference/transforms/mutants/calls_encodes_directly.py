"""Mistake: Pipeline calls t.encodes(x) / t.decodes(x) directly, bypassing the Transform's type dispatch."""

_SolutionPipeline = Pipeline


class Pipeline(_SolutionPipeline):
    def __call__(self, o):
        for f in self.fs:
            o = f.encodes(o)
        return o

    def decode(self, o):
        for f in reversed(self.fs):
            o = f.decodes(o) if hasattr(f, "decodes") else o
        return o
