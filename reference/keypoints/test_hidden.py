"""Hidden checks for `keypoints`: point conventions, sunglasses and the model head, in float64.

Images are non-square (width != height) so that (x, y) vs (row, col) and (width, height) vs
(height, width) mix-ups show. Models are built in the sandbox by the public scenario
``build_model``; their weights come back and are loaded into the trusted reference model, which
must give the same output on inputs made here with a fresh seed.
"""

from __future__ import annotations

import pytest
import torch

from grader.sandbox import RemoteObject
from grader.scenarios import fresh_seed, load_scenarios
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from reference.keypoints.reference import (
    flip_mistakes,
    flip_ref,
    glasses_mistakes,
    glasses_ref,
    head_logits,
    head_weights,
    model_mistakes,
    reference_model,
    scale_mistakes,
    scale_ref,
    unscale_mistakes,
    unscale_ref,
)

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]

FORBIDDEN = ["fastai.layers.sigmoid_range", "fastai.layers.SigmoidRange", "fastai.vision.core.PointScaler",
             "fastai.vision.core.TensorPoint", "fastai.vision.core._scale_pnts", "fastai.vision.core._unscale_pnts",
             "fastai.vision.augment.flip_lr"]


def _rand(*shape, seed, dtype, device, low=0.0, high=1.0):
    g = torch.Generator().manual_seed(seed)
    return (low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)).to(device, dtype)


def _pixels(*shape, img_size, seed, dtype, device):
    """Random pixel points (x, y) inside an image of ``img_size = (width, height)``."""
    scale = torch.tensor([float(img_size[0]), float(img_size[1])], dtype=torch.float64)
    return (_rand(*shape, 2, seed=seed, dtype=torch.float64, device="cpu") * scale).to(device, dtype)


# -- scale / unscale -----------------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_scale_points(student, device, dtype):
    """scale_points: (x, y) pixels to [-1, 1] with img_size = (width, height), non-square images."""
    for seed, shape, img_size in [(1, (3, 4), (48, 30)), (2, (7,), (37, 91)), (3, (2, 2), (64, 40))]:
        points = _pixels(*shape, img_size=img_size, seed=seed, dtype=dtype, device=device)
        assert_tensor_close(student.scale_points(points, img_size), scale_ref(points, img_size),
                            what=f"scale_points(points{tuple(points.shape)}, img_size={img_size})", dtype=dtype,
                            device=device, hints=scale_mistakes(points, img_size))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unscale_points(student, device, dtype):
    """unscale_points: the inverse of scale_points, back to (x, y) pixels."""
    for seed, shape, img_size in [(4, (3, 4), (48, 30)), (5, (7,), (37, 91)), (6, (2, 2), (64, 40))]:
        scaled = _rand(*shape, 2, seed=seed, dtype=dtype, device=device, low=-1.0, high=1.0)
        assert_tensor_close(student.unscale_points(scaled, img_size), unscale_ref(scaled, img_size),
                            what=f"unscale_points(points{tuple(scaled.shape)}, img_size={img_size})", dtype=dtype,
                            device=device, hints=unscale_mistakes(scaled, img_size))


# -- flip ----------------------------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_flip_points_horizontal(student, device, dtype):
    """flip_points_horizontal: x -> width - x, y stays, and the left and right eye swap places."""
    for seed, shape, img_size in [(7, (5,), (57, 40)), (8, (), (64, 64)), (9, (2, 3), (33, 70))]:
        points = _pixels(*shape, 2, img_size=img_size, seed=seed, dtype=dtype, device=device)
        width = img_size[0]
        assert_tensor_close(student.flip_points_horizontal(points, width), flip_ref(points, width),
                            what=f"flip_points_horizontal(eyes{tuple(points.shape)}, width={width})", dtype=dtype,
                            device=device, hints=flip_mistakes(points, width))


# -- glasses -------------------------------------------------------------------------------------
#: Eye pairs: level, right eye lower (+), right eye higher (-), upside-down cats (|angle| > 90), vertical.
LEFT = [[20.0, 30.0], [20.0, 30.0], [20.0, 30.0], [40.0, 25.0], [44.0, 20.0], [30.0, 10.0], [10.5, 40.25]]
RIGHT = [[40.0, 30.0], [36.0, 38.0], [36.0, 21.0], [22.0, 33.0], [25.0, 12.0], [30.0, 50.0], [51.75, 28.5]]


def check_glasses(student, left, right):
    __tracebackhide__ = True
    what = f"glasses_transform(left_eye{tuple(left.shape)}, right_eye{tuple(right.shape)})"
    out = student.glasses_transform(left, right)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"{what} must return a tuple (center, angle_degrees, width), not a {type(out).__name__}.")
    expected, hints = glasses_ref(left, right), glasses_mistakes(left, right)
    for part, value, want, hint in zip(("center", "angle_degrees", "width"), out, expected, hints):
        assert_tensor_close(value, want, what=f"the {part} from {what}", dtype=left.dtype, device=left.device,
                            hints=hint)


@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES)
def test_glasses_transform(student, device, dtype):
    """glasses_transform: midpoint, atan2 angle in degrees (y points down), width 2x the eye distance."""
    left, right = (torch.tensor(v, dtype=dtype, device=device) for v in (LEFT, RIGHT))
    check_glasses(student, left, right)
    check_glasses(student, left[1], right[1])  # one pair, no batch axis: angle and width are 0-dim
    check_glasses(student, _pixels(2, 3, img_size=(64, 48), seed=10, dtype=dtype, device=device),
                  _pixels(2, 3, img_size=(64, 48), seed=11, dtype=dtype, device=device))


# -- model ---------------------------------------------------------------------------------------
def check_model(student, reference, device, *, n_points=2, y_range=None, height=40, width=56,
                dtype=torch.float32):
    """Build the student's model on the scenario's encoder, run it on fresh inputs, compare here."""
    __tracebackhide__ = True
    options = f", y_range={y_range}" if y_range is not None else ""
    kwargs = dict(n_points=n_points, height=height, width=width, device=str(device),
                  dtype=str(dtype).removeprefix("torch."))
    if y_range is not None:
        kwargs["y_range"] = y_range
    built = student.scenario("build_model", seed=fresh_seed(), **kwargs)
    model = built.get("model") if isinstance(built, dict) else None
    if not isinstance(model, RemoteObject):
        fail("The scenario build_model did not return a model (did you change scenarios.py?).")
    state = model.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail("KeypointModel.state_dict() did not return tensors.")
    encoder = load_scenarios(reference.exercise).tiny_encoder()
    try:
        ref = reference_model(state, encoder, n_points, y_range or (-1.0, 1.0), (3, height, width))
    except KeyError as exc:
        fail(f"KeypointModel's weights are not where the checks look for them (missing: {exc.args[0]}). "
             "Keep the encoder you are given as `self.encoder` and the linear layer as `self.head`.")
    except RuntimeError:
        fail(f"KeypointModel's `head` has the wrong shape for n_points={n_points}: it must map the flattened "
             "encoder features to 2 * n_points numbers.")
    x = _rand(8, 3, height, width, seed=fresh_seed(), dtype=dtype, device=device)
    # New head weights, chosen here: logits of about +-1.5, where the sigmoid is curved and the
    # precision of the convolutions and the matmul shows (TF32 would stay hidden at logits ~0.05).
    head = head_weights(ref, x, seed=fresh_seed())
    model.load_state_dict({**state, **{k: v.to(device, dtype) for k, v in head.items()}})
    ref.load_state_dict({**ref.state_dict(), **head})
    what = f"KeypointModel(encoder, {n_points}{options})(x{tuple(x.shape)})"
    model.eval()
    out = model(x)
    with torch.no_grad():
        expected = ref(x.to("cpu", torch.float64))
    hints = model_mistakes(head_logits(ref, x), n_points, y_range or (-1.0, 1.0))
    assert_tensor_close(out, expected, what=what, dtype=dtype, device=device, hints=hints)


@pytest.mark.points(3)
def test_model_sigmoid_range_head(student, reference, device):
    """KeypointModel: encoder, flatten, linear head, sigmoid range (-1, 1), shape (N, n_points, 2)."""
    check_model(student, reference, device, n_points=2)


@pytest.mark.points(1)
def test_model_y_range(student, reference, device):
    """KeypointModel with another y_range: sigmoid(z) * (high - low) + low."""
    check_model(student, reference, device, n_points=2, y_range=(-0.5, 2.0))


@pytest.mark.points(1)
@pytest.mark.parametrize("n_points", [1, 3])
def test_model_n_points(student, reference, device, n_points):
    """KeypointModel with 1 and 3 keypoints on tall images: output (N, n_points, 2)."""
    check_model(student, reference, device, n_points=n_points, height=48, width=32)


@pytest.mark.points(1)
def test_model_float64(student, reference, device):
    """A float64 KeypointModel computes in float64."""
    check_model(student, reference, device, n_points=2, dtype=torch.float64)


# -- from scratch --------------------------------------------------------------------------------
@pytest.mark.points(1)
def test_no_fastai(student, device, student_sources):
    """No fastai (sigmoid_range, PointScaler, TensorPoint, flip_lr): everything from scratch."""
    points = torch.tensor([[[10.0, 20.0], [30.0, 22.0]]], device=device)
    student.scale_points(points, (48, 32))
    student.flip_points_horizontal(points, 48)
    assert_from_scratch(set(), student_sources, forbidden_names=FORBIDDEN,
                        forbidden_modules=["fastai", "fasttransform"], modules_seen=student.imported_modules(),
                        what="keypoints")
