"""Public checks for `unet`: run them with `grade check unet`.

They build tiny encoders (see ``scenarios.py``), put your `UNet` on top and look at the output
shape, then train it for a moment on synthetic discs and draw what it predicts (``unet.png``).
The hidden checks also rebuild your decoder from its weights and compare it with your model.
"""

from pathlib import Path

import pytest
import torch

from grader.scenarios import fresh_seed, load_scenario_file
from grader.testing import fail


def _scenarios():
    return load_scenario_file(Path(__file__).with_name("scenarios.py"))


def _check_output(out, n, n_out, h, w, device, what):
    if not isinstance(out, torch.Tensor):
        fail(f"{what} returned a {type(out).__name__}, but a tensor is expected.")
    if tuple(out.shape) != (n, n_out, h, w):
        fail(f"{what} has shape {tuple(out.shape)}, but (N, n_out, H, W) = {(n, n_out, h, w)} is expected "
             "(the input's height and width, n_out channels).")
    if out.dtype != torch.float32 or out.device.type != device.type:
        fail(f"{what} is {out.dtype} on {out.device}; the input was float32 on {device}.")
    if not bool(torch.isfinite(out).all()):
        fail(f"{what} contains NaN or inf.")


def _model(student, device, spec, n_out, img_size):
    """Your UNet on an encoder built in the worker (``scenarios.make_encoder``)."""
    encoder = student.scenario("make_encoder", spec=spec, device=str(device), seed=fresh_seed())
    model = student.UNet(encoder, n_out, img_size)
    model.to(str(device))
    return model


def _forward(student, model, x):
    return student.scenario("forward", model=model, x=x, seed=fresh_seed())


@pytest.mark.points(1)
def test_output_shape(student, device):
    """Output (N, n_out, H, W) for a 32x40 batch on a small encoder."""
    S = _scenarios()
    x = torch.randn(2, 3, 32, 40, generator=torch.Generator().manual_seed(fresh_seed())).to(device)
    out = _forward(student, _model(student, device, S.ENCODER_A, 3, (32, 40)), x)
    _check_output(out, 2, 3, 32, 40, device, "UNet(encoder, n_out=3, img_size=(32, 40))(x of 2x3x32x40)")


@pytest.mark.points(1)
def test_odd_size(student, device):
    """Odd input sizes (33x47) on an encoder with a stride-2 stem and max pooling."""
    S = _scenarios()
    x = torch.randn(1, 3, 33, 47, generator=torch.Generator().manual_seed(fresh_seed())).to(device)
    out = _forward(student, _model(student, device, S.ENCODER_B, 2, (32, 32)), x)
    _check_output(out, 1, 2, 33, 47, device, "UNet(encoder, n_out=2, img_size=(32, 32))(x of 1x3x33x47)")


def _picture(path, images, masks, pred, iou):
    """Input, true mask, predicted mask for a few images, as one image on one axes (matplotlib's Agg
    canvas, no window): twelve axes took about 0.4 s per student to set up, one takes 0.05 s."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n, gap = min(4, len(images)), 2
    h, w = images.shape[-2:]
    tile = lambda x: x.expand(3, h, w).permute(1, 2, 0).clamp(0, 1)  # noqa: E731  (a mask becomes grey)
    sheet = torch.ones(n * (h + gap) - gap, 3 * (w + gap) - gap, 3)
    for i in range(n):
        for j, data in enumerate([images[i], masks[i][None], pred[i][None]]):
            sheet[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = tile(data.float())
    fig = Figure(figsize=(6, 1.6 * n), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
    ax.imshow(sheet.numpy(), interpolation="nearest")
    ax.set_axis_off()
    for j, title in enumerate(["input", "true mask", "your prediction"]):
        ax.text((j + 0.5) * (w + gap), -2, title, ha="center", va="bottom", fontsize=9)
    fig.suptitle(f"unet: IoU {iou:.2f} on new images", fontsize=10)
    fig.savefig(path, format="png")


def _train_and_score(student, device, S):
    """One training run with fresh seeds (``scenarios.train``); the IoU is computed here on masks the
    student never sees."""
    g = torch.Generator().manual_seed(fresh_seed())
    x, y = S.make_discs(160, 32, 32, g)
    test_x, test_y = S.make_discs(16, 32, 32, g)
    model = _model(student, device, S.ENCODER_TRAIN, 2, (32, 32))
    student.scenario("train", model=model, x=x.to(device), y=y.to(device), seed=fresh_seed())
    logits = _forward(student, model, test_x.to(device))
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (16, 2, 32, 32):
        fail("After training, your model did not give logits of shape (16, 2, 32, 32) for the 16 test images.")
    pred = logits.detach().cpu().float().argmax(1)
    p, y = pred == 1, test_y == 1
    return int((p & y).sum()) / max(1, int((p | y).sum())), test_x, test_y, pred


@pytest.mark.points(2)
@pytest.mark.check_timeout(120)
@pytest.mark.cpu_budget(30)
def test_learns_discs(student, device, artifacts):
    """Trained for 40 steps on synthetic discs, it segments new images with IoU >= 0.8 (picture: unet.png)."""
    S = _scenarios()
    iou, test_x, test_y, pred = _train_and_score(student, device, S)
    if iou < 0.8:  # a short training run can be unlucky: the better of two runs with fresh seeds counts
        second = _train_and_score(student, device, S)
        if second[0] > iou:
            iou, test_x, test_y, pred = second
    path = artifacts.path("unet.png")
    _picture(path, test_x, test_y, pred, iou)
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            fail("unet.png is not a PNG file (a problem of the check, not of your code).")
    if iou < 0.8:
        hint = ""
        if pred.unique().numel() == 1:
            hint = (" Your model predicts the same class everywhere: maybe its ReLUs died; initialise the "
                    "decoder convs with nn.init.kaiming_normal_ (as fastai does) or add BatchNorm.")
        fail(f"After training (the better of two runs), the predicted masks of new images reach IoU {iou:.2f}, "
             f"below 0.8 (see unet.png).{hint}")
