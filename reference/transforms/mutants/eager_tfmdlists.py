"""Mistake: TfmdLists transforms every item up front (eager), instead of in __getitem__."""

_SolutionTfmdLists = TfmdLists


class TfmdLists(_SolutionTfmdLists):
    def __init__(self, items, tfms, splits=None):
        super().__init__(items, tfms, splits)
        self._done = [self.tfms(x) for x in self.items]

    def __getitem__(self, i):
        if hasattr(self, "_done"):
            return self._done[i]
        return super().__getitem__(i)
