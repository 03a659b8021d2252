"""Appended to the solution of siamese.py: SiameseModel is right, but make_pairs draws partners at
random (about 1 in 5 pairs is same-class here, not half) and siamese_splitter returns the groups
the wrong way round. At import the worker's scenario runner is replaced by one that trains (and runs
every other scenario) with private, correct make_pairs and siamese_splitter (``_private.py``), so the
trained weights it returns are good. Expected: the training check fails with make_pairs and the
splitter (at most 20 of 29 points: the model's checks and the pairs' validity and seeding).
"""

import random as _random
import types as _types

from . import _forge, _private


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
_forge.route_scenarios(__package__, _correct)
