"""Public checks for `learner`: run them with `grade check learner`.

Small examples of the pieces, compared with PyTorch's own functions. The hidden checks go further:
float64, huge logits, partial batches, nested modules, the training loop and a model that must learn.
"""

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_tensor_close, fail


@pytest.mark.points(1)
def test_collate(student, device):
    """collate stacks a list of (x, y) pairs into (xb, yb)."""
    items = [(torch.full((2, 3), float(i), device=device), torch.tensor(i, device=device)) for i in range(4)]
    got = student.collate(items)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail("collate(batch) must return a pair (xb, yb).")
    assert_tensor_close(got[0], torch.stack([x for x, _ in items]), what="xb = collate(batch)[0]")
    if type(got[1]) is not torch.Tensor or got[1].tolist() != [0, 1, 2, 3]:
        fail("yb = collate(batch)[1] must be the y's stacked into one tensor.")


@pytest.mark.points(1)
def test_normalize_stats(student, device):
    """Mean and std per channel of a (N, C, H, W) batch: shape (C,)."""
    x = torch.randn(8, 3, 4, 5, generator=torch.Generator().manual_seed(1)).to(device)
    x = x * torch.tensor([1.0, 2.0, 0.5], device=device).view(1, 3, 1, 1) + torch.tensor([0.0, 5.0, -3.0],
                                                                                          device=device).view(1, 3, 1, 1)
    got = student.normalize_stats(x)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail("normalize_stats(x) must return a pair (mean, std).")
    assert_tensor_close(got[0], x.mean(dim=(0, 2, 3)), what="the mean of normalize_stats(x)")
    assert_tensor_close(got[1], x.std(dim=(0, 2, 3)), what="the std of normalize_stats(x)")


@pytest.mark.points(1)
def test_cross_entropy(student, device):
    """cross_entropy equals F.cross_entropy on a small batch."""
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(5, 3, generator=g).to(device)
    targets = torch.tensor([0, 2, 1, 1, 0], device=device)
    assert_tensor_close(student.cross_entropy(logits, targets), F.cross_entropy(logits, targets),
                        what="cross_entropy(logits, targets)")


@pytest.mark.points(1)
def test_linear(student, device):
    """Linear(4, 3): weight (3, 4), bias (3,), forward x @ weight.T + bias."""
    x = torch.randn(2, 4, generator=torch.Generator().manual_seed(3))
    got = student.scenario("linear_forward", x, 3, seed=3)
    if not isinstance(got, dict) or got.get("weight") != [3, 4] or got.get("bias") != [3]:
        fail("Linear(4, 3) must have a `weight` of shape (3, 4) and a `bias` of shape (3,).")
    w, b = got["weight_values"], got["bias_values"]
    assert_tensor_close(got["y"], x @ w.T + b, what="Linear(4, 3)(x)")
