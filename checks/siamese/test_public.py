"""Public checks for `siamese`: run them with `grade check siamese`.

They build your SiameseModel around the tiny encoder and head of `scenarios.py` and call
make_pairs on a small label list. The hidden checks use random seeds, float64, gradients, the
splitter and a short training run.
"""

import pytest
import torch

from grader.sandbox import RemoteObject
from grader.testing import assert_tensor_close, fail


def build(student):
    """Your SiameseModel around the encoder and head of ``scenarios.make_parts`` (built in the sandbox)."""
    parts = student.scenario("build_parts", seed=1)
    if not isinstance(parts, dict) or not all(isinstance(parts.get(k), RemoteObject) for k in ("encoder", "head")):
        fail("The scenario build_parts did not return an encoder and a head (did you change scenarios.py?).")
    model = student.SiameseModel(parts["encoder"], parts["head"])
    if not isinstance(model, RemoteObject):
        fail(f"SiameseModel(encoder, head) gave a {type(model).__name__}, but an nn.Module is expected.")
    return model, parts["encoder"], parts["head"]


@pytest.mark.points(1)
def test_forward_concatenates(student):
    """forward(x1, x2) equals head(cat([encoder(x1), encoder(x2)], dim=1))."""
    model, encoder, head = build(student)
    g = torch.Generator().manual_seed(2)
    x1, x2 = torch.randn(3, 1, 6, 5, generator=g), torch.randn(3, 1, 6, 5, generator=g)
    f1, f2 = encoder(x1), encoder(x2)
    want = head(torch.cat([f1, f2], dim=1))
    assert_tensor_close(model(x1, x2), want, what="model(x1, x2)")


@pytest.mark.points(1)
def test_splitter_two_groups(student):
    """siamese_splitter(model) returns [encoder params, head params]."""
    model, encoder, head = build(student)
    groups = student.siamese_splitter(model)
    if type(groups) is not list or len(groups) != 2 or not all(type(g) is list for g in groups):
        fail("siamese_splitter(model) must return a list of two lists.")
    enc = list(encoder.state_dict().values())
    if len(groups[0]) != len(enc) or not all(torch.equal(p, q) for p, q in zip(groups[0], enc)):
        fail("siamese_splitter(model)[0] must be the encoder's parameters.")


@pytest.mark.points(1)
def test_make_pairs_small(student):
    """make_pairs(labels, 40, 0): valid (i, j, same) tuples, same == (labels[i] == labels[j]), reproducible."""
    labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2]
    pairs = student.make_pairs(labels, 40, 0)
    if type(pairs) is not list or len(pairs) != 40:
        fail("make_pairs(labels, 40, 0) must return a list of 40 tuples.")
    for i, j, same in pairs:
        if type(same) is not bool or same != (labels[i] == labels[j]):
            fail(f"The pair ({i}, {j}, {same!r}) is wrong: same must be the bool labels[i] == labels[j].")
    if student.make_pairs(labels, 40, 0) != pairs:
        fail("make_pairs with the same seed must give the same pairs.")
