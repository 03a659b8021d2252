"""Public checks for `conv`: run them with `grade check conv`.

They compare your `conv2d` with `torch.nn.functional.conv2d` on a few small inputs.
"""

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_tensor_close


def _randn(*shape, seed, device):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(device)


@pytest.mark.points(1)
def test_single_channel(student, device):
    """One 5x6 image, one 3x2 kernel, no bias, no padding."""
    x, w = _randn(1, 1, 5, 6, seed=1, device=device), _randn(1, 1, 3, 2, seed=2, device=device)
    assert_tensor_close(student.conv2d(x, w), F.conv2d(x, w), what="conv2d(x, w)")


@pytest.mark.points(1)
def test_channels_and_bias(student, device):
    """Two images with 3 channels, 4 output channels, a bias."""
    x, w = _randn(2, 3, 6, 7, seed=3, device=device), _randn(4, 3, 3, 3, seed=4, device=device)
    b = _randn(4, seed=5, device=device)
    assert_tensor_close(student.conv2d(x, w, bias=b), F.conv2d(x, w, b), what="conv2d(x, w, bias=b)")


@pytest.mark.points(1)
def test_stride_and_padding(student, device):
    """Stride 2 and padding 1 (the same on both axes)."""
    x, w = _randn(1, 2, 7, 8, seed=6, device=device), _randn(3, 2, 3, 3, seed=7, device=device)
    out = student.conv2d(x, w, stride=2, padding=1)
    assert_tensor_close(out, F.conv2d(x, w, stride=2, padding=1), what="conv2d(x, w, stride=2, padding=1)")
