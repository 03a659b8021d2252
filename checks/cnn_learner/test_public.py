"""Public checks for `cnn_learner`: run them with `grade check cnn_learner`.

They look at the concat pool, the default head's weights and output, and the body of a small
ResNet-like model (``scenarios.py`` builds it). The hidden checks compare everything with fastai itself.
"""

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.scenarios import fresh_seed, load_scenario_file
from grader.testing import assert_tensor_close, fail


def _scenarios():
    return load_scenario_file(Path(__file__).with_name("scenarios.py"))


def _x(*shape, device):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(fresh_seed())).to(device)


@pytest.mark.points(1)
def test_concat_pool(student, device):
    """The head starts with a concat pool: max pooling, then average pooling, (N, 2C, 1, 1)."""
    x = _x(2, 3, 5, 4, device=device)
    pool = student.create_head(3, 2).get_submodule("0")
    mx, av = x.amax(dim=(2, 3), keepdim=True), x.mean(dim=(2, 3), keepdim=True)
    hints = {"the average comes first (fastai: max first, then average)": torch.cat([av, mx], dim=1),
             "only the average pool is returned (the concat pool doubles the channels)": av}
    assert_tensor_close(pool(x), torch.cat([mx, av], dim=1), hints=hints,
                        what="create_head(3, 2)[0] (the concat pool) on x of shape (2, 3, 5, 4)")


#: The state_dict of fastai's default head create_head(16, 3): pool, Flatten, BN, Dropout, Linear, ReLU, BN,
#: Dropout, Linear (a Linear after a BatchNorm has no bias).
DEFAULT_HEAD = {"2.weight": [32], "2.bias": [32], "2.running_mean": [32], "2.running_var": [32],
                "2.num_batches_tracked": [], "4.weight": [512, 32], "6.weight": [512], "6.bias": [512],
                "6.running_mean": [512], "6.running_var": [512], "6.num_batches_tracked": [], "8.weight": [3, 512]}


def _default_head(state, x):
    """fastai's default head in eval mode, computed from its weights."""
    def bn(h, i):
        return F.batch_norm(h, state[f"{i}.running_mean"], state[f"{i}.running_var"], state[f"{i}.weight"],
                            state[f"{i}.bias"], training=False, eps=1e-5)
    h = torch.cat([x.amax(dim=(2, 3)), x.mean(dim=(2, 3))], dim=1)
    h = F.relu(F.linear(bn(h, 2), state["4.weight"]))
    return F.linear(bn(h, 6), state["8.weight"])


@pytest.mark.points(1)
def test_default_head(student, device):
    """create_head(16, 3): fastai's layers in fastai's order, with the right sizes."""
    head = student.create_head(16, 3)
    state = head.state_dict()
    if not isinstance(state, dict):
        fail("create_head(16, 3) should return a flat nn.Sequential (its state_dict could not be read).")
    shapes = {k: list(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)}
    if shapes != DEFAULT_HEAD:
        fail(f"The weights of create_head(16, 3) are {shapes}, but fastai's head has {DEFAULT_HEAD} "
             "(pool, Flatten, BatchNorm1d, Dropout, Linear, ReLU, BatchNorm1d, Dropout, Linear; the concat pool "
             "doubles the 16 features).")
    x = _x(2, 16, 5, 3, device=device)
    head.to(str(device))
    got = _scenarios_forward(student, head, x)
    want = _default_head({k: v.detach().cpu().double() for k, v in state.items()}, x.cpu().double())
    assert_tensor_close(got, want, what="create_head(16, 3) in eval mode on a (2, 16, 5, 3) batch, compared with "
                        "fastai's default head computed from your head's weights", dtype=x.dtype, device=x.device)
    types = student.scenario("layer_types", module=head, seed=0)
    ps = [t for t in types if str(t).startswith("Dropout")] if isinstance(types, list) else None
    if ps != ["Dropout(p=0.25)", "Dropout(p=0.5)"]:
        fail(f"The dropout layers of create_head(16, 3) are {ps}, but ps=0.5 means Dropout(p=0.25) in the first "
             "block and Dropout(p=0.5) in the last.")


def _scenarios_forward(student, module, x):
    return student.scenario("forward_eval", module=module, x=x, seed=fresh_seed())


@pytest.mark.points(1)
def test_resnet_body(student, device):
    """create_body(resnet-like model, cut=-2): the first six children, the model's own layers."""
    S = _scenarios()
    seed = fresh_seed()
    model = student.scenario("make_model", arch="resnet", seed=seed)
    here = S.make_arch("resnet", seed)
    model.load_state_dict(here.state_dict())
    before = nn.Sequential(*list(copy.deepcopy(here).children())[:-2]).eval()
    body = student.create_body(model, -2)
    for p in here.parameters():  # new weights for the model, after the body was made: the body must see them
        nn.init.normal_(p, std=0.3)
    model.load_state_dict(here.state_dict())
    model.to(str(device))
    want = nn.Sequential(*list(here.children())[:-2]).eval()
    state = body.state_dict()
    if not isinstance(state, dict) or sorted(state) != sorted(want.state_dict()):
        fail("create_body(model, -2) should be an nn.Sequential of the model's children up to (not including) "
             "the last two: Conv2d, BatchNorm2d, ReLU, MaxPool2d, Sequential, Sequential.")
    x = _x(2, 3, 20, 18, device=device)
    with torch.no_grad():
        expected, copied = want(x.cpu()), before(x.cpu())
    assert_tensor_close(_scenarios_forward(student, body, x), expected, dtype=x.dtype, device=x.device,
                        what="create_body(model, -2) on a (2, 3, 20, 18) batch, after new weights were loaded into "
                             "the model",
                        hints={"the body is a copy: new weights loaded into the model do not reach it (don't copy "
                               "the layers)": copied})
