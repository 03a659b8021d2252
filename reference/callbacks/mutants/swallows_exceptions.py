"""Mistake: every exception is treated like a cancel (a real error in a callback is swallowed)."""


def _mutant_with_events(self, body, name, cancel):
    try:
        self(f"before_{name}")
        body()
    except Exception:
        self(f"after_cancel_{name}")
    self(f"after_{name}")


Learner._with_events = _mutant_with_events
