"""Public checks for `basics`: run them with `grade check basics`.

They compare your functions with PyTorch (``torch.mm``, and autograd for the gradients) on small
inputs. The hidden checks test more shapes, float64, the from-scratch and no-autograd rules.
"""

import pytest
import torch

from grader.testing import assert_tensor_close


def _randn(*shape, seed, device):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(device)


@pytest.mark.points(1)
def test_matmul_small(student, device):
    """matmul of a (2, 3) and a (3, 4) matrix equals torch.mm."""
    a, b = _randn(2, 3, seed=1, device=device), _randn(3, 4, seed=2, device=device)
    assert_tensor_close(student.matmul(a, b), torch.mm(a, b), what="matmul(a(2, 3), b(3, 4))")


@pytest.mark.points(1)
def test_mse_shapes(student, device):
    """mse(pred (5, 1), target (5,)) is a 0-dimensional tensor: the mean of 5 squared errors."""
    pred, target = _randn(5, 1, seed=3, device=device), _randn(5, seed=4, device=device)
    assert_tensor_close(student.mse(pred, target), ((pred[:, 0] - target) ** 2).mean(), what="mse(pred, target)")


@pytest.mark.points(1)
def test_mlp_gradients(student, device):
    """Loss and gradients of a small MLP equal PyTorch autograd's (computed here, not in your code)."""
    x, y = _randn(4, 3, seed=5, device=device), _randn(4, seed=6, device=device)
    params = {"w1": _randn(3, 5, seed=7, device=device), "b1": _randn(5, seed=8, device=device),
              "w2": _randn(5, 1, seed=9, device=device), "b2": _randn(1, seed=10, device=device)}
    loss, grads = student.mlp_forward_backward(x, params["w1"], params["b1"], params["w2"], params["b2"], y)
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    out = torch.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
    ref_loss = ((out[:, 0] - y) ** 2).mean()
    ref_loss.backward()
    assert_tensor_close(loss, ref_loss.detach(), what="the loss")
    for key in ("w1", "b1", "w2", "b2"):
        assert_tensor_close(grads[key], p[key].grad, what=f"grads[{key!r}]")


@pytest.mark.points(1)
def test_sgd_step(student, device):
    """sgd_step moves each parameter against its gradient: p - lr * g."""
    params = {"w": _randn(2, 3, seed=11, device=device), "b": _randn(3, seed=12, device=device)}
    grads = {"w": _randn(2, 3, seed=13, device=device), "b": _randn(3, seed=14, device=device)}
    out = student.sgd_step(params, grads, 0.1)
    for key in params:
        assert_tensor_close(out[key], params[key] - 0.1 * grads[key], what=f"sgd_step(...)[{key!r}]")
