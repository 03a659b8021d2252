"""Mistake: a cancel is caught, but after_cancel_<x> is never called."""


def _mutant_with_events(self, body, name, cancel):
    try:
        self(f"before_{name}")
        body()
    except cancel:
        pass
    self(f"after_{name}")


Learner._with_events = _mutant_with_events
