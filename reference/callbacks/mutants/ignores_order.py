"""Mistake: callbacks are called in the order they were given, ignoring `order`."""


def _mutant_call(self, event):
    for cb in self.cbs:
        method = getattr(cb, event, None)
        if method is not None:
            method()


Learner.__call__ = _mutant_call
