"""Mistake: TfmdLists sets the transforms up on all items, validation included (leakage)."""

_SolutionTfmdLists = TfmdLists


class TfmdLists(_SolutionTfmdLists):
    def __init__(self, items, tfms, splits=None):
        self.items = items
        n = len(items)
        self.splits = [list(range(n)), []] if splits is None else [list(s) for s in splits]
        sorted_tfms = Pipeline(tfms).fs
        self.tfms = Pipeline([])
        for tfm in sorted_tfms:
            tfm.setup(self._subset(list(items), self.tfms))
            self.tfms.fs.append(tfm)
