"""Mistake: TfmdLists writes the transformed value back into the items list (changes its input)."""

_SolutionTfmdLists = TfmdLists


class TfmdLists(_SolutionTfmdLists):
    def __getitem__(self, i):
        value = self.tfms(self.items[i])
        if isinstance(self.items, list) and getattr(self, "_ready", False):
            self.items[i] = value
        return value

    def __init__(self, items, tfms, splits=None):
        super().__init__(items, tfms, splits)
        self._ready = True
