"""Public checks for `batchnorm`: run them with `grade check batchnorm`.

They compare your layer with `torch.nn.BatchNorm2d` on small inputs. The hidden checks test more:
tiny batches, momentum, evaluation mode, a nearly constant channel, float64, gradients, buffers
and parameters, and the from-scratch rule.
"""

import pytest
import torch
from torch import nn

from grader.testing import assert_tensor_close, fail


def _randn(*shape, seed, device):
    return (torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 2 + 1).to(device)


@pytest.mark.points(1)
def test_training_output(student, device):
    """Training mode: each channel of the output has mean 0 and (biased) variance 1, as nn.BatchNorm2d's."""
    x = _randn(4, 3, 5, 6, seed=1, device=device)
    layer = student.BatchNorm2d(3)
    layer.to(device)
    ref = nn.BatchNorm2d(3).to(device)
    assert_tensor_close(layer(x), ref(x).detach(), what="BatchNorm2d(3)(x)")


@pytest.mark.points(1)
def test_running_statistics(student, device):
    """After one training step, state_dict() holds running_mean and running_var as nn.BatchNorm2d's."""
    x = _randn(2, 3, 4, 5, seed=2, device=device)
    layer = student.BatchNorm2d(3)
    layer.to(device)
    layer(x)
    ref = nn.BatchNorm2d(3).to(device)
    ref(x)
    state = layer.state_dict()
    for key in ("running_mean", "running_var"):
        if key not in state:
            fail(f"state_dict() has no {key!r}: register it with self.register_buffer.")
        assert_tensor_close(state[key], getattr(ref, key), what=f"{key} after one training step")


@pytest.mark.points(1)
def test_eval_mode(student, device):
    """In evaluation mode the layer normalises with its running statistics."""
    layer = student.BatchNorm2d(2, momentum=0.5)
    layer.to(device)
    ref = nn.BatchNorm2d(2, momentum=0.5).to(device)
    x = _randn(3, 2, 4, 3, seed=3, device=device)
    layer(x)
    ref(x)
    layer.eval()
    ref.eval()
    x = _randn(2, 2, 4, 3, seed=4, device=device)
    assert_tensor_close(layer(x), ref(x).detach(), what="the output in evaluation mode")
