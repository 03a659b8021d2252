"""Scenarios for `siamese`: a tiny encoder and head, your SiameseModel around them, gradients, training.

Every function gets your package as ``impl`` and the run's ``seed`` (torch, ``random`` and numpy
are seeded with it before the call, so the encoder and head start from the same weights in your
run and in the grader's). You can call them yourself::

    import siamese, scenarios
    torch.manual_seed(0)
    scenarios.branch_grads(siamese, seed=0, branch=2)
"""

from __future__ import annotations

import typing as t

import torch
from torch import nn
import torch.nn.functional as F

#: Image size (channels, height, width): non-square on purpose.
IMAGE = (1, 6, 5)
FEATURES = 12


def make_parts(dtype: str = "float32", device: str = "cpu") -> tuple[nn.Module, nn.Module]:
    """The encoder ``(N, 1, 6, 5) -> (N, 12)`` and the head ``(N, 24) -> (N, 2)``, on the global RNG."""
    c, h, w = IMAGE
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, FEATURES), nn.ReLU())
    head = nn.Sequential(nn.Linear(2 * FEATURES, 16), nn.ReLU(), nn.Linear(16, 2))
    kind = getattr(torch, dtype)
    return encoder.to(device=device, dtype=kind), head.to(device=device, dtype=kind)


def build_parts(impl: t.Any, *, seed: int, dtype: str = "float32", device: str = "cpu") -> dict[str, t.Any]:
    """Fresh parts (``make_parts``) for the grader to build your ``SiameseModel`` on (it gets handles).

    The grader calls ``SiameseModel(encoder, head)`` itself, loads weights it chose into the model
    and compares what your model computes with the same architecture rebuilt on its side.
    """
    encoder, head = make_parts(dtype, device)
    return {"encoder": encoder, "head": head}


def build_model(impl: t.Any, *, seed: int, dtype: str = "float32", device: str = "cpu",
                antisymmetric: bool = False) -> t.Any:
    """``impl.SiameseModel(encoder, head)`` around fresh parts (the grader gets a handle to it).

    ``antisymmetric``: the head's first layer weighs the second image's features with minus the
    weights of the first image's, so it sees ``W (f1 - f2) + b``: nearly equal images then give
    nearly equal features, and any rounding of the features shows in the output.
    """
    encoder, head = make_parts(dtype, device)
    if antisymmetric:
        with torch.no_grad():
            head[0].weight[:, FEATURES:] = -head[0].weight[:, :FEATURES]
    return impl.SiameseModel(encoder, head)


def model_state(impl: t.Any, *, seed: int, dtype: str = "float32", device: str = "cpu",
                antisymmetric: bool = False) -> dict[str, t.Any]:
    """The ``state_dict`` of ``build_model`` (the same weights, as data)."""
    return build_model(impl, seed=seed, dtype=dtype, device=device, antisymmetric=antisymmetric).state_dict()


def branch_grads(impl: t.Any, *, seed: int, branch: int, dtype: str = "float32") -> dict[str, t.Any]:
    """Gradients when only image ``branch`` (1 or 2) matters: the head ignores the other features.

    The head's first layer gets zero weights on the other image's features, so the encoder's
    gradient comes through image ``branch`` alone. Returns the gradients of the encoder's and the
    head's parameters (read from the parts themselves) and the loss.
    """
    encoder, head = make_parts(dtype)
    with torch.no_grad():
        other = slice(FEATURES, 2 * FEATURES) if branch == 1 else slice(0, FEATURES)
        head[0].weight[:, other] = 0
    kind = getattr(torch, dtype)
    x1, x2 = torch.randn(5, *IMAGE, dtype=kind), torch.randn(5, *IMAGE, dtype=kind)
    weights = torch.randn(5, 2, dtype=kind)
    model = impl.SiameseModel(encoder, head)
    loss = (model(x1, x2) * weights).sum()
    loss.backward()
    return {"loss": loss.detach(),
            "encoder": [None if p.grad is None else p.grad.detach() for p in encoder.parameters()],
            "head": [None if p.grad is None else p.grad.detach() for p in head.parameters()]}


def make_images(protos: torch.Tensor, labels: torch.Tensor, noise: float, generator: torch.Generator) -> torch.Tensor:
    """Images of the given classes: the class prototype plus Gaussian noise."""
    return protos[labels] + noise * torch.randn(len(labels), *protos.shape[1:], generator=generator,
                                                dtype=protos.dtype)


class Adam:
    """Adam written out (torch.optim's would import torch._dynamo: 1.5 s of CPU in every fresh worker)."""

    def __init__(self, groups: list[list[torch.Tensor]], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = [p for group in groups for p in group]
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.avg = [torch.zeros_like(p) for p in self.params]
        self.sqr_avg = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        with torch.no_grad():
            for p, avg, sqr_avg in zip(self.params, self.avg, self.sqr_avg):
                if p.grad is None:
                    continue
                avg.mul_(b1).add_(p.grad, alpha=1 - b1)
                sqr_avg.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                step = (avg / (1 - b1 ** self.t)) / ((sqr_avg / (1 - b2 ** self.t)).sqrt() + self.eps)
                p.sub_(self.lr * step)


def train_pairs(impl: t.Any, *, seed: int, protos: torch.Tensor, n_images: int = 120, n_pairs: int = 1200,
                epochs: int = 8, bs: int = 64, lr: float = 3e-3, noise: float = 0.4,
                device: str = "cpu") -> dict[str, t.Any]:
    """Train a SiameseModel on pairs of synthetic images (prototype + noise) made with ``make_pairs``.

    The target of a pair is ``same`` as a ``torch.long`` class index (1 = same, 0 = different) for
    cross-entropy; Adam gets the two groups of ``siamese_splitter``. Returns the trained
    ``state_dict`` and the losses; the grader judges the weights on its side, on pairs it draws.
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.randperm(n_images, generator=g) % len(protos)
    images = make_images(protos, labels, noise, g).to(device)
    pairs = impl.make_pairs(labels.tolist(), n_pairs, seed)
    i = torch.tensor([p[0] for p in pairs], device=device)
    j = torch.tensor([p[1] for p in pairs], device=device)
    target = torch.tensor([p[2] for p in pairs], dtype=torch.long, device=device)
    encoder, head = make_parts("float32", device)
    model = impl.SiameseModel(encoder, head)
    groups = impl.siamese_splitter(model)
    opt = Adam([list(groups[0]), list(groups[1])], lr=lr)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=g).to(device)
        for start in range(0, len(pairs), bs):
            batch = order[start:start + bs]
            loss = F.cross_entropy(model(images[i[batch]], images[j[batch]]), target[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    return {"state": model.state_dict(), "losses": losses}
