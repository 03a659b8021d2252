"""Mistake: TfmdLists wraps fastai's TfmdLists (forbidden), imported inside the method."""

_SolutionTfmdLists = TfmdLists


class TfmdLists(_SolutionTfmdLists):
    def __init__(self, items, tfms, splits=None):
        from fastai.data.core import TfmdLists as _Fastai

        self._inner = _Fastai(items, tfms, splits=splits)
        super().__init__(items, tfms, splits)
