"""Public checks for `resnet`: run them with `grade check resnet`.

Shapes and the residual idea only. The hidden checks load random weights into your modules and
compare every output with the documented architecture, in training and eval mode, float32 and
float64, check gradients, and train a small ResNet (see scenarios.py).
"""

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_tensor_close, fail


def _randn(*shape, seed, device):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(device)


def _shape(out, what, want):
    if not isinstance(out, torch.Tensor):
        fail(f"{what} returned a {type(out).__name__}, but a tensor is expected.")
    if tuple(out.shape) != want:
        fail(f"{what} has shape {tuple(out.shape)}, but shape {want} is expected.")


@pytest.mark.points(1)
def test_block_shapes(student, device):
    """ResBlock keeps the size with stride 1 and halves it (rounding up) with stride 2; outputs are >= 0."""
    x = _randn(2, 4, 9, 10, seed=1, device=device)
    for (ni, nf, stride), want in [((4, 4, 1), (2, 4, 9, 10)), ((4, 8, 1), (2, 8, 9, 10)),
                                   ((4, 8, 2), (2, 8, 5, 5))]:
        what = f"ResBlock({ni}, {nf}, stride={stride})(x(2, 4, 9, 10))"
        out = student.ResBlock(ni, nf, stride).to(device)(x)
        _shape(out, what, want)
        if bool((out < 0).any()):
            fail(f"{what} has negative values: the block ends with a ReLU (after the addition).")


@pytest.mark.points(1)
def test_zero_last_bn_gives_identity(student, device):
    """With the weight of the last BN of convs at 0, ResBlock(4, 4) is relu(x): the skip connection alone."""
    block = student.ResBlock(4, 4).to(device)
    state = block.state_dict()
    # the last BatchNorm2d of convs, read from the weights: the last module under convs. with running stats
    batchnorms = [k.rsplit(".", 1)[0] for k in state if k.startswith("convs.") and k.endswith(".running_mean")]
    key = f"{batchnorms[-1]}.weight" if batchnorms else ""
    if key not in state:
        fail("ResBlock(4, 4).convs has no BatchNorm2d with a weight: the conv path must end with its BatchNorm2d.")
    state[key] = torch.zeros_like(state[key])
    block.load_state_dict(state)
    block.eval()
    x = _randn(2, 4, 7, 6, seed=2, device=device)
    assert_tensor_close(block(x), F.relu(x), what="ResBlock(4, 4)(x) with the last BN weight zeroed")


@pytest.mark.points(1)
def test_resnet_shapes(student, device):
    """ResNet(3, 5) maps (N, 3, H, W) to logits (N, 5) for H, W >= 16, odd and non-square too."""
    model = student.ResNet(3, 5).to(device)
    model.eval()
    for h, w in [(16, 16), (17, 23)]:
        out = model(_randn(2, 3, h, w, seed=h + w, device=device))
        _shape(out, f"ResNet(3, 5)(x(2, 3, {h}, {w}))", (2, 5))
