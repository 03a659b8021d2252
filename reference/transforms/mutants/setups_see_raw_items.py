"""Mistake: every transform is set up on the raw training items, not as the earlier transforms produce them."""

_SolutionTfmdLists = TfmdLists


class TfmdLists(_SolutionTfmdLists):
    def __init__(self, items, tfms, splits=None):
        self.items = items
        n = len(items)
        self.splits = [list(range(n)), []] if splits is None else [list(s) for s in splits]
        self.tfms = Pipeline(tfms)
        raw_train = [items[i] for i in self.splits[0]]
        for tfm in self.tfms.fs:
            tfm.setup(raw_train)
