"""Public checks for `cnn_learner`: run them with `grade check cnn_learner`.

They look at the concat pool, the default head's layers and the body of a small ResNet-like
model (``scenarios.py`` builds it). The hidden checks compare everything with fastai itself.
"""

import pytest
import torch

from grader.testing import assert_tensor_close, fail

#: fastai's default head, create_head(nf, n_out): the layer types in order.
DEFAULT_HEAD = ["AdaptiveConcatPool2d", "Flatten", "BatchNorm1d", "Dropout", "Linear", "ReLU", "BatchNorm1d",
                "Dropout", "Linear"]


@pytest.mark.points(1)
def test_concat_pool(student, device):
    """The head starts with a concat pool: max pooling, then average pooling, (N, 2C, 1, 1)."""
    x = torch.randn(2, 3, 5, 4, generator=torch.Generator().manual_seed(1)).to(device)
    pool = student.create_head(3, 2).get_submodule("0")
    mx, av = x.amax(dim=(2, 3), keepdim=True), x.mean(dim=(2, 3), keepdim=True)
    hints = {"the average comes first (fastai: max first, then average)": torch.cat([av, mx], dim=1),
             "only the average pool is returned (the concat pool doubles the channels)": av}
    assert_tensor_close(pool(x), torch.cat([mx, av], dim=1), hints=hints,
                        what="create_head(3, 2)[0] (the concat pool) on x of shape (2, 3, 5, 4)")


@pytest.mark.points(1)
def test_default_head(student):
    """create_head(16, 3): fastai's layers in fastai's order, with the right sizes."""
    got = student.scenario("head_layout", seed=1, nf=16, n_out=3)
    layers = got.get("layers") if isinstance(got, dict) else None
    if got.get("type") != "Sequential" or not isinstance(layers, list):
        fail("create_head(16, 3) should return a flat nn.Sequential.")
    types = [layer["type"] for layer in layers]
    if types != DEFAULT_HEAD:
        fail(f"create_head(16, 3) has the layers {', '.join(types)}, but fastai's head has "
             f"{', '.join(DEFAULT_HEAD)}.")
    linears = [layer["params"].get("weight") for layer in layers if layer["type"] == "Linear"]
    if linears != [[512, 32], [3, 512]]:
        fail(f"The Linear weights of create_head(16, 3) have the shapes {linears}, but [[512, 32], [3, 512]] "
             "are expected (the concat pool doubles the 16 features).")
    ps = [layer.get("p") for layer in layers if layer["type"] == "Dropout"]
    if ps != [0.25, 0.5]:
        fail(f"The dropout probabilities of create_head(16, 3) are {ps}, but ps=0.5 means [0.25, 0.5].")
    if got.get("out_shape") != [2, 3]:
        fail(f"create_head(16, 3) on a (2, 16, 5, 3) batch gives shape {got.get('out_shape')}, not (2, 3).")


@pytest.mark.points(1)
def test_resnet_body(student):
    """create_body(resnet-like model, cut=-2): the first six children, the model's own layers."""
    got = student.scenario("body_layout", seed=1, arch="resnet", cut=-2)
    if not isinstance(got, dict) or got.get("type") != "Sequential":
        fail("create_body(model, -2) should return an nn.Sequential.")
    types = [layer["type"] for layer in got.get("layers", [])]
    want = ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Sequential", "Sequential"]
    if types != want:
        fail(f"create_body(model, -2) holds {', '.join(types)}, but the model's children up to (not including) "
             f"the last two are {', '.join(want)}.")
    if not all(s is True for s in got.get("shared", [False])):
        fail("create_body(model, -2): the body's parameters are not the model's own (don't copy the layers).")
