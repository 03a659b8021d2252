"""Appended to the solution of siamese.py: SiameseModel is right, but make_pairs draws partners at
random (about 1 in 5 pairs is same-class here, not half) and siamese_splitter returns the groups
the wrong way round. At import the worker's scenario runner is replaced by one that trains (and runs
every other scenario) with private, correct make_pairs and siamese_splitter (``_private.py``), so the
trained weights it returns are good. Expected: the training check fails with make_pairs and the
splitter (at most 20 of 29 points: the model's checks and the pairs' validity and seeding).
"""

import random as _random
import sys as _sys
import types as _types

from . import _private


def make_pairs(labels, n, seed):
    rng = _random.Random(seed)
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    pairs = []
    for _ in range(n):
        i, j = rng.randrange(len(values)), rng.randrange(len(values))
        pairs.append((i, j, bool(values[i] == values[j])))
    return pairs


def siamese_splitter(model):
    return [list(model.head.parameters()), list(model.encoder.parameters())]


_correct = _types.SimpleNamespace(SiameseModel=SiameseModel, make_pairs=_private.make_pairs,
                                  siamese_splitter=_private.siamese_splitter)
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
    _Worker._forged_impls[__package__] = _correct
