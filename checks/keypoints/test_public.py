"""Public checks for `keypoints`: run them with `grade check keypoints`.

Three small examples, then the real thing: your KeypointModel is trained in the sandbox
(``scenarios.train_keypoints``); its weights come back, are loaded into the published architecture
here and have to find the eyes of cat faces it has never seen. The check draws them with
sunglasses where your ``glasses_transform`` puts them, and tells you where the picture is
(``thug_cat.png``).
"""

from __future__ import annotations

import math
import typing as t
from pathlib import Path

import pytest
import torch
from torch import nn

from grader.sandbox import RemoteObject, StudentError
from grader.scenarios import fresh_seed, load_course_module, load_scenario_file
from grader.testing import CheckFailed, assert_tensor_close, fail
from grader.weights import load_weights

#: The mean distance (pixels) between predicted and true eyes that a trained model must beat.
MAX_MEAN_ERROR_PX = 2.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _scenarios():
    """``scenarios.py`` next to this file (the same code the sandbox runs), imported here."""
    return load_scenario_file(Path(__file__).with_name("scenarios.py"))


def _thug_cat():
    """``thug_cat.py`` next to this file: the published architecture and the sunglasses picture."""
    return load_course_module(Path(__file__).with_name("thug_cat.py"))


@pytest.mark.points(1)
def test_scale_points_example(student, device):
    """Two points on a 50 x 30 image (width 50, height 30) to [-1, 1] and back."""
    points = torch.tensor([[0.0, 30.0], [40.0, 6.0]], device=device)   # (x, y): bottom-left corner, ...
    expected = torch.tensor([[-1.0, 1.0], [0.6, -0.6]], device=device)
    size_swapped = points * 2 / torch.tensor([30.0, 50.0], device=device) - 1
    assert_tensor_close(student.scale_points(points, (50, 30)), expected, what="scale_points(points, (50, 30))",
                        hints={"img_size was read as (height, width); it is (width, height)": size_swapped})
    assert_tensor_close(student.unscale_points(expected, (50, 30)), points, what="unscale_points(scaled, (50, 30))",
                        hints={"img_size was read as (height, width); it is (width, height)":
                               (expected + 1) * torch.tensor([30.0, 50.0], device=device) / 2})


@pytest.mark.points(1)
def test_flip_example(student, device):
    """Mirroring a 64-pixel-wide image: x -> 64 - x, and the two eyes swap places."""
    eyes = torch.tensor([[12.0, 30.0], [40.0, 28.0]], device=device)   # left eye, right eye
    expected = torch.tensor([[24.0, 28.0], [52.0, 30.0]], device=device)
    hints = {"the eyes were not swapped (after the flip, the old right eye is the left one)": expected.flip(0),
             "x went to width - 1 - x; pixel centres sit at j + 0.5, so the mirror of x is width - x":
                 expected - torch.tensor([1.0, 0.0], device=device)}
    assert_tensor_close(student.flip_points_horizontal(eyes, 64), expected, what="flip_points_horizontal(eyes, 64)",
                        hints=hints)


@pytest.mark.points(1)
def test_glasses_example(student, device):
    """Level eyes: angle 0; right eye lower: a positive angle (y points down); width 2x the distance."""
    left = torch.tensor([[20.0, 30.0], [20.0, 30.0]], device=device)
    right = torch.tensor([[40.0, 30.0], [30.0, 40.0]], device=device)
    out = student.glasses_transform(left, right)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail("glasses_transform must return a tuple (center, angle_degrees, width).")
    center, angle, width = out
    assert_tensor_close(center, torch.tensor([[30.0, 30.0], [25.0, 35.0]], device=device), what="center")
    assert_tensor_close(angle, torch.tensor([0.0, 45.0], device=device), what="angle_degrees",
                        hints={"the angle is in radians": torch.tensor([0.0, math.pi / 4], device=device),
                               "the angle has the wrong sign (y points down in images)":
                                   torch.tensor([0.0, -45.0], device=device)})
    assert_tensor_close(width, torch.tensor([40.0, 2 * math.sqrt(200.0)], device=device), what="width",
                        hints={"the width is the eye distance itself, not 2.0 times it":
                               torch.tensor([20.0, math.sqrt(200.0)], device=device)})


def published_model(state: object, what: str) -> nn.Module:
    """``PublishedModel`` carrying ``state`` (float64, eval mode); a state of another shape fails the check."""
    __tracebackhide__ = True
    return load_weights(_thug_cat().PublishedModel().double(), state, what=what)


def not_ready(what: str, exc: Exception) -> t.NoReturn:
    __tracebackhide__ = True
    fail(f"This check trains with your scale_points, flip_points_horizontal and KeypointModel, so it counts only "
         f"when they work: {what} is not right yet (its own check shows why).\n{exc}")


def require_pieces(student, device) -> None:
    """The training uses scale_points, flip_points_horizontal and KeypointModel: check them first, here.

    The training itself runs in the sandbox, so only its weights are evidence; these three calls on
    fresh inputs show that the student's own code computes what the training needs.
    """
    __tracebackhide__ = True
    g = torch.Generator().manual_seed(fresh_seed())
    eyes = torch.rand(6, 2, 2, generator=g, dtype=torch.float64) * 64
    for what, got, want in (
            ("scale_points(eyes, (64, 64))", lambda: student.scale_points(eyes.float().to(device), (64, 64)),
             eyes * 2 / 64 - 1),
            ("flip_points_horizontal(eyes, 64)", lambda: student.flip_points_horizontal(eyes.float().to(device), 64),
             torch.stack([64 - eyes[..., 0], eyes[..., 1]], dim=-1).flip(-2))):
        try:
            assert_tensor_close(got(), want, what=what, dtype=torch.float32, device=device)
        except (CheckFailed, StudentError) as exc:
            not_ready(what, exc)
    made = student.scenario("make_encoder", seed=fresh_seed(), device=str(device))
    encoder = made.get("encoder") if isinstance(made, dict) else None
    if not isinstance(encoder, RemoteObject):
        fail("The scenario make_encoder did not return an encoder (did you change scenarios.py?).")
    try:
        model = student.KeypointModel(encoder, 2)
        model.eval()
        model(torch.zeros(1, 3, 64, 64, device=device))  # lets nn.LazyLinear find its size
        state = model.state_dict()
        x = torch.rand(4, 3, 64, 64, generator=g).to(device)
        assert_tensor_close(model(x), published_model(state, "KeypointModel(encoder, 2)")(x.double().cpu()),
                            what="KeypointModel(encoder, 2)(x) with its own random weights", dtype=torch.float32,
                            device=device)
    except (CheckFailed, StudentError) as exc:
        not_ready("KeypointModel(encoder, 2)", exc)


@pytest.mark.points(2)
@pytest.mark.check_timeout(60)
@pytest.mark.cpu_budget(20)
def test_thug_cat(student, device, artifacts):
    """Your KeypointModel learns to find cat eyes (mean error <= 2 px at 64x64); see thug_cat.png."""
    require_pieces(student, device)
    scn = _scenarios()
    # one training per grading session: the public and the hidden check judge the same weights
    trained = student.scenario_once("train_keypoints", device=str(device))
    state = trained.get("state") if isinstance(trained, dict) else None
    if not isinstance(state, dict):
        fail("The scenario train_keypoints did not return the trained weights (did you change scenarios.py?).")
    # The trained weights, judged here: loaded into the published architecture, on new cat faces.
    model = published_model(state, "the trained KeypointModel")
    images, eyes = scn.cat_faces(64, generator=torch.Generator().manual_seed(fresh_seed()))
    with torch.no_grad():
        pred = model(images.double())
    pred_px = (pred + 1) * 32  # scaled -> pixels of a 64 x 64 image
    errors = (pred_px - eyes.double()).norm(dim=-1).mean(-1)  # per cat
    mean_error = float(errors.mean()) if bool(torch.isfinite(errors).all()) else math.inf

    shown = slice(0, 6)
    glasses, problem = None, ""
    try:
        shown_eyes = pred_px[shown].float().to(device)
        glasses = student.glasses_transform(shown_eyes[:, 0], shown_eyes[:, 1])
        if (not isinstance(glasses, (tuple, list)) or len(glasses) != 3
                or not all(type(g) is torch.Tensor for g in glasses)):
            glasses, problem = None, "glasses_transform did not return three tensors"
    except StudentError as exc:
        problem = str(exc)
    path = artifacts.path("thug_cat.png")
    _thug_cat().draw_thug_cats(images[shown], pred_px[shown], errors[shown], glasses, path)
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            fail("thug_cat.png is not a valid PNG file.")
    if not mean_error <= MAX_MEAN_ERROR_PX:
        fail(f"The trained model misses the eyes by {mean_error:.2f} pixels on average (at most "
             f"{MAX_MEAN_ERROR_PX:g} is expected). It trains on targets from scale_points and, for mirrored "
             "images, flip_points_horizontal; the head must be a sigmoid range. Look at thug_cat.png.")
    if problem:
        fail(f"The eyes are found, but the sunglasses could not be drawn: {problem}")
