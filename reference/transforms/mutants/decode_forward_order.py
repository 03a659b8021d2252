"""Mistake: Pipeline.decode undoes the transforms first to last instead of last to first."""

_SolutionPipeline = Pipeline


class Pipeline(_SolutionPipeline):
    def decode(self, o):
        for f in self.fs:
            o = f.decode(o)
        return o
