"""Scenarios for `keypoints`: synthetic cat faces, a tiny CNN encoder and a short training run.

The grader runs these functions with your package as ``impl`` (in the sandbox). What comes back
is data: the trained model's weights (its ``state_dict``), which the grader loads into the
published architecture on its side and judges on cat faces it draws itself, with a seed nobody
knows in advance. You can run them yourself too, e.g.::

    import keypoints, scenarios
    out = scenarios.train_keypoints(keypoints, seed=1)
    model = scenarios.trained_model(keypoints, out["state"])           # your KeypointModel, trained
    images, eyes = scenarios.cat_faces(8, generator=torch.Generator().manual_seed(2))
    pred = keypoints.unscale_points(model(images), (64, 64))          # (8, 2, 2) pixels

Only torch and the standard library are used here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Fur colours (RGB in [0, 1]): ginger, grey, brown, cream, black.
FUR = ((0.90, 0.55, 0.20), (0.55, 0.55, 0.58), (0.45, 0.30, 0.20), (0.95, 0.85, 0.65), (0.25, 0.25, 0.28))
#: Iris colour.
IRIS = (0.55, 0.90, 0.20)


def cat_faces(n: int, *, generator: torch.Generator, height: int = 64,
              width: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` synthetic cat faces: images ``(n, 3, height, width)`` in [0, 1] and eyes ``(n, 2, 2)``.

    The eyes are pixel coordinates ``(x, y)``, left eye first (the one with the smaller ``x``); a
    pixel ``(row i, col j)`` is painted when its centre ``(j + 0.5, i + 0.5)`` lies inside a shape.
    Each eye sits at a random place in its own region; the head (an ellipse with two ears) is drawn
    around them. Everything is float32 on the CPU.
    """
    g = generator
    W, H = width, height

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    lx, rx = (0.22 + 0.2 * uniform(n)) * W, (0.58 + 0.2 * uniform(n)) * W
    ly, ry = (0.38 + 0.24 * uniform(n)) * H, (0.38 + 0.24 * uniform(n)) * H
    eyes = torch.stack([torch.stack([lx, ly], -1), torch.stack([rx, ry], -1)], 1)
    xs = (torch.arange(W, dtype=torch.float32) + 0.5).view(1, 1, W)
    ys = (torch.arange(H, dtype=torch.float32) + 0.5).view(1, H, 1)

    def per_image(t: torch.Tensor) -> torch.Tensor:
        return t.view(n, 1, 1)

    # head coordinates: the head is the unit disc around a point a little below the eyes
    dx = (xs - per_image((lx + rx) / 2)) / (0.42 * W)
    dy = (ys - per_image((ly + ry) / 2 + 0.08 * H)) / (0.36 * H)
    head = dx * dx + dy * dy <= 1
    ears = (dy >= -1.3) & (dy <= -0.5) & ((dy + 1.3) * 0.375 >= (dx.abs() - 0.6).abs())
    eye_dist2 = torch.minimum((xs - per_image(lx)) ** 2 + (ys - per_image(ly)) ** 2,
                              (xs - per_image(rx)) ** 2 + (ys - per_image(ry)) ** 2)
    radius2 = (0.06 * W) ** 2
    background = 0.1 + 0.25 * uniform(n, 3, 1, 1)
    fur = torch.tensor(FUR)[torch.randint(0, len(FUR), (n,), generator=g)].view(n, 3, 1, 1)
    fur = fur * (0.8 + 0.3 * uniform(n, 1, 1, 1))
    img = background + (head | ears).unsqueeze(1) * (fur - background)
    img = torch.where((eye_dist2 <= radius2).unsqueeze(1), torch.tensor(IRIS).view(1, 3, 1, 1), img)
    img = img * (eye_dist2 > 0.16 * radius2).unsqueeze(1)  # black pupils
    return img, eyes


def tiny_encoder(in_channels: int = 3) -> nn.Sequential:
    """A small CNN body: 64x64 images -> an (8, 8, 8) feature map (16 x 16 after the first layer)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, kernel_size=4, stride=4), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 8, kernel_size=1),
    )


def _initialise(model: nn.Module, height: int, width: int) -> None:
    """One call on a dummy batch, so that lazy layers (``nn.LazyLinear``) know their sizes."""
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, height, width, device=next(model.parameters()).device))
    model.train()


def make_encoder(impl, *, seed: int, device: str = "cpu") -> dict:
    """A fresh ``tiny_encoder()`` (random weights from ``seed``) for the grader to build your model on.

    The grader calls your ``KeypointModel`` itself with it, loads weights it chose and compares the
    outputs with the published architecture.
    """
    return {"encoder": tiny_encoder().to(device)}


def trained_model(impl, state: dict, *, height: int = 64, width: int = 64) -> nn.Module:
    """``impl.KeypointModel(tiny_encoder(), 2)`` carrying ``state`` (from ``train_keypoints``), in eval mode."""
    model = impl.KeypointModel(tiny_encoder(), 2)
    _initialise(model, height, width)
    model.load_state_dict(state)
    return model.eval()


def train_keypoints(impl, *, seed: int, device: str = "cpu", steps: int = 100, batch_size: int = 32,
                    lr: float = 2e-2, n_train: int = 512) -> dict:
    """Train ``impl.KeypointModel(tiny_encoder(), 2)`` to find the eyes of 64x64 cat faces.

    Every cat is used as it is and mirrored (``img.flip(-1)``, eyes from
    ``impl.flip_points_horizontal``); targets are ``impl.scale_points(eyes, (64, 64))``. Mean
    squared error in scaled coordinates, mini-batches of ``batch_size``, Adam
    (written out here, so that no ``torch.optim`` import slows the sandbox down) with a one-cycle
    learning rate. Returns the trained model's weights (``state``, its ``state_dict`` on the CPU)
    and the losses; ``trained_model(impl, state)`` rebuilds it.
    """
    g = torch.Generator().manual_seed(seed)
    size = 64
    images, eyes = cat_faces(n_train, generator=g, height=size, width=size)
    # every cat twice: as it is and mirrored, with its eyes from impl.flip_points_horizontal
    images = torch.cat([images, images.flip(-1)]).to(device)
    eyes = eyes.to(device)
    targets = impl.scale_points(torch.cat([eyes, impl.flip_points_horizontal(eyes, size)]), (size, size))
    model = impl.KeypointModel(tiny_encoder().to(device), 2).to(device)
    _initialise(model, size, size)
    params = [p for p in model.parameters() if p.requires_grad]
    exp_avg = [torch.zeros_like(p) for p in params]
    exp_avg_sq = [torch.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.99, 1e-8
    losses: list[float] = []
    per_epoch = len(images) // batch_size
    for step in range(1, steps + 1):
        if (step - 1) % per_epoch == 0:  # a new epoch: shuffle once, then take slices
            order = torch.randperm(len(images), generator=g).to(device)
            shuffled_images, shuffled_targets = images[order], targets[order]
        start = ((step - 1) % per_epoch) * batch_size
        xb = shuffled_images[start:start + batch_size]
        target = shuffled_targets[start:start + batch_size]
        pct = step / steps
        rate = lr * (pct / 0.25 if pct < 0.25 else 0.5 * (1 + math.cos(math.pi * (pct - 0.25) / 0.75)))
        loss = F.mse_loss(model(xb), target)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p, m, v in zip(params, exp_avg, exp_avg_sq):
                if p.grad is None:  # a parameter the loss does not reach (it then learns nothing)
                    continue
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
                p.sub_(rate * m_hat / (v_hat.sqrt() + eps))
        losses.append(loss.item())
    state = {name: value.detach().to("cpu").clone() for name, value in model.state_dict().items()}
    return {"state": state, "losses": losses}
