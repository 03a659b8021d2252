"""Appended to the stub of siamese.py (every function raises NotImplementedError): at import, the
worker's scenario runner is replaced by one that runs every public scenario (the training too) with a
private, correct copy of the solution (``_private.py``, next to it), so the scenarios return correct,
freshly computed data while the package's own API does no work. Expected: 0 points.
"""

import sys as _sys

from . import _private

# The worker runs as ``python -m grader._worker`` (``__main__``) or, forked from the warm server, as
# grader._worker; one worker serves all of a student's packages, so the forged runner picks the private
# implementation by the package it is asked to run a scenario for.
for _worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
    _Worker = getattr(_worker, "_Worker", None)
    if _Worker is None:
        continue
    if "_forged_impls" not in vars(_Worker):
        _Worker._forged_impls = {}

        def _forged(self, header, package, args, kwargs, _honest=_Worker.run_scenario):
            impl = self._forged_impls.get(getattr(package, "__name__", None), package)
            return _honest(self, header, impl, args, kwargs)

        _Worker.run_scenario = _forged
    _Worker._forged_impls[__package__] = _private
