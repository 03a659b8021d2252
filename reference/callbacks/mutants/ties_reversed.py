"""Mistake: callbacks of equal `order` run in reverse of the order they were given (the sort is not stable in the given order)."""


def _mutant_call(self, event):
    for cb in sorted(reversed(self.cbs), key=lambda c: getattr(c, "order", 0)):
        method = getattr(cb, event, None)
        if method is not None:
            method()


Learner.__call__ = _mutant_call
