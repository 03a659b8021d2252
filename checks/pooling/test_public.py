"""Public checks for `pooling`: run them with `grade check pooling`.

They compare your pooling with `torch.nn.functional`'s on a few small inputs. The hidden checks
add random sizes, negative inputs with padding, sizes that do not divide, gradients, float64 and
the from-scratch rule.
"""

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_tensor_close


def _randn(*shape, seed, device):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(device)


@pytest.mark.points(1)
def test_max_pool(student, device):
    """max_pool2d: a 2x2 kernel (stride = kernel size) and a 3x2 kernel with stride 1 and padding 1."""
    x = _randn(1, 2, 6, 8, seed=1, device=device)
    assert_tensor_close(student.max_pool2d(x, 2), F.max_pool2d(x, 2), what="max_pool2d(x, 2)")
    assert_tensor_close(student.max_pool2d(x, (3, 2), stride=1, padding=1), F.max_pool2d(x, (3, 2), 1, 1),
                        what="max_pool2d(x, (3, 2), stride=1, padding=1)")


@pytest.mark.points(1)
def test_avg_pool(student, device):
    """avg_pool2d: no padding, then padding 1 with count_include_pad True and False."""
    x = _randn(2, 3, 7, 6, seed=2, device=device)
    assert_tensor_close(student.avg_pool2d(x, (2, 3)), F.avg_pool2d(x, (2, 3)), what="avg_pool2d(x, (2, 3))")
    for cip in (True, False):
        assert_tensor_close(student.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=cip),
                            F.avg_pool2d(x, 3, 2, 1, count_include_pad=cip),
                            what=f"avg_pool2d(x, 3, stride=2, padding=1, count_include_pad={cip})")


@pytest.mark.points(1)
def test_adaptive_avg_pool(student, device):
    """adaptive_avg_pool2d: 8x6 to (4, 3) (sizes divide) and to 1 (a global average)."""
    x = _randn(2, 3, 8, 6, seed=3, device=device)
    for size in ((4, 3), 1):
        assert_tensor_close(student.adaptive_avg_pool2d(x, size), F.adaptive_avg_pool2d(x, size),
                            what=f"adaptive_avg_pool2d(x, {size})")


@pytest.mark.points(1)
def test_concat_pool(student, device):
    """AdaptiveConcatPool2d(): shape (N, 2C, 1, 1), the max of each channel first, then its mean."""
    x = _randn(2, 3, 5, 4, seed=4, device=device)
    want = torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], dim=1)
    assert_tensor_close(student.AdaptiveConcatPool2d()(x), want, what="AdaptiveConcatPool2d()(x)")
