"""Mistake: after_<x> sits inside the try, so a cancel skips it."""


def _mutant_with_events(self, body, name, cancel):
    try:
        self(f"before_{name}")
        body()
        self(f"after_{name}")
    except cancel:
        self(f"after_cancel_{name}")


Learner._with_events = _mutant_with_events
