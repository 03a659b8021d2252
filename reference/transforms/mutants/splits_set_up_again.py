"""Mistake: tl.train / tl.valid are new TfmdLists that set the transforms up again on the split's items."""

_SolutionTfmdLists = TfmdLists


class TfmdLists(_SolutionTfmdLists):
    @property
    def train(self):
        if not hasattr(self, "_ready"):  # during construction: the solution's set-up view
            return self._subset([self.items[i] for i in self.splits[0]], self.tfms)
        return TfmdLists([self.items[i] for i in self.splits[0]], list(self.tfms.fs))

    @property
    def valid(self):
        return TfmdLists([self.items[i] for i in self.splits[1]], list(self.tfms.fs))

    def __init__(self, items, tfms, splits=None):
        super().__init__(items, tfms, splits)
        self._ready = True
