"""Shared by the forged-scenario submissions of tests/test_trust_vision.py (copied into each package
as ``_forge.py``): make the worker run every public scenario of ``package`` with ``impl`` instead.

The worker runs as ``python -m grader._worker`` (``__main__``) or, forked from the warm server, as
grader._worker; one worker serves all of a student's packages, so the forged runner picks the private
implementation by the package it is asked to run a scenario for.
"""

import sys as _sys


def route_scenarios(package, impl):
    for worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
        runner = getattr(worker, "_Worker", None)
        if runner is None:
            continue
        if "_forged_impls" not in vars(runner):
            runner._forged_impls = {}

            def _forged(self, header, package, args, kwargs, _honest=runner.run_scenario):
                impl = self._forged_impls.get(getattr(package, "__name__", None), package)
                return _honest(self, header, impl, args, kwargs)

            runner.run_scenario = _forged
        runner._forged_impls[package] = impl
