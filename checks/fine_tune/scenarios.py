"""Scenarios for `fine_tune`: a small CNN, image batches and a recorder, then fine_tune or fit_one_cycle.

They run twice: in the sandbox against your package (``impl`` is your `fine_tune` package, built on
your `callbacks`, `optimizers`, `one_cycle`, `cnn_learner` and `lr_find`) and in the grader against
fastai's own ``Learner.fine_tune`` (``impl`` is then an adapter with the same API). They return data
only: what the recorder saw at every training batch (each group's lr and mom, which parameters
train), every loss and the final weights. Nothing here knows the expected answer.
"""

from __future__ import annotations

import torch
from torch import nn

#: Layer kinds the body and head are drawn from (the structure is drawn from the seed).
N_CLASSES = 3


class DataLoaders:
    """``.train`` and ``.valid`` lists of ``(xb, yb)`` batches (also indexable, as fastai's)."""

    def __init__(self, train: list, valid: list, device: str) -> None:
        self.train, self.valid, self.device = train, valid, torch.device(device)

    def __getitem__(self, i: int) -> list:
        return (self.train, self.valid)[i]

    def __len__(self) -> int:
        return 2


def make_data(seed: int, device: str, n_train: int, n_valid: int, bs: int = 8, size: int = 10) -> DataLoaders:
    """Float64 images (3 x size x size) of 3 classes, labelled by a random rule on pooled pixels."""
    g = torch.Generator().manual_seed(seed)
    rule = torch.randn(3 * 4, N_CLASSES, generator=g, dtype=torch.float64)

    def batches(n: int) -> list:
        out = []
        for _ in range(n):
            x = torch.randn(bs, 3, size, size, generator=g, dtype=torch.float64)
            pooled = nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)
            out.append((x.to(device), (pooled @ rule).argmax(1).to(device)))
        return out

    return DataLoaders(batches(n_train), batches(n_valid), device)


def make_model(seed: int, device: str = "cpu") -> nn.Sequential:
    """``nn.Sequential(body, head)`` in float64: conv/BatchNorm/ReLU body, pooled BatchNorm/Linear head."""
    torch.manual_seed(seed)
    body = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                         nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(8), nn.Linear(8, 8), nn.ReLU(),
                         nn.LayerNorm(8), nn.Linear(8, N_CLASSES))
    return nn.Sequential(body, head).double().to(device)


def three_groups(model: nn.Module) -> list:
    """Three parameter groups: the first body block, the second, the head."""
    return [list(model[0][:3].parameters()), list(model[0][3:].parameters()), list(model[1].parameters())]


def _splitter(groups: int):
    return None if groups == 2 else three_groups


def make_recorder(impl, steps: list, losses: list):
    """A callback (after the scheduler) that records each training batch's hyper-parameters and flags."""

    class Recorder(impl.Callback):
        order = 70

        def before_batch(self) -> None:
            learn = self.learn
            if not learn.training:
                return
            hypers = [[float(h["lr"]), float(h["mom"])] for h in learn.opt.hypers]
            flags = "".join("1" if p.requires_grad else "0" for p in learn.model.parameters())
            steps.append({"hypers": hypers, "trainable": flags})

        def after_loss(self) -> None:
            losses.append(float(self.learn.loss.detach()))

    return Recorder()


def _learner(impl, seed: int, device: str, groups: int, n_train: int, n_valid: int, steps: list, losses: list,
             **options):
    dls = make_data(seed, device, n_train, n_valid)
    model = make_model(seed + 1, device)
    splitter = _splitter(groups)
    extra = {} if splitter is None else {"splitter": splitter}
    learn = impl.Learner(model, dls, nn.functional.cross_entropy, cbs=[make_recorder(impl, steps, losses)],
                         **extra, **options)
    return learn, model


def _result(steps: list, losses: list, model: nn.Module) -> dict:
    return {"steps": steps, "losses": losses, "state": {k: v.detach().cpu() for k, v in model.state_dict().items()}}


def fine_tune_run(impl, *, seed: int, epochs: int = 2, base_lr=2e-3, freeze_epochs: int = 1, lr_mult: float = 100,
                  pct_start: float = 0.3, div: float = 5.0, groups: int = 2, n_train: int = 3, n_valid: int = 1,
                  train_bn: bool = True, device: str = "cpu") -> dict:
    """``fine_tune(learn, epochs, ...)`` on a fresh Learner; returns what the recorder saw and the final weights.

    ``groups``: 2 (the Learner's default splitter, your ``cnn_splitter``) or 3 (:func:`three_groups`).
    ``base_lr=None`` asks ``fine_tune`` for an ``lr_find`` suggestion.
    """
    steps: list = []
    losses: list = []
    learn, model = _learner(impl, seed, device, groups, n_train, n_valid, steps, losses, train_bn=train_bn)
    impl.fine_tune(learn, epochs, base_lr=base_lr, freeze_epochs=freeze_epochs, lr_mult=lr_mult,
                   pct_start=pct_start, div=div)
    return _result(steps, losses, model)


def one_cycle_run(impl, *, seed: int, n_epoch: int = 2, lr_max=(1e-3, 1e-2), div: float = 25.0,
                  div_final: float = 1e5, pct_start: float = 0.25, moms=None, groups: int = 2, freeze: bool = False,
                  n_train: int = 3, n_valid: int = 1, device: str = "cpu") -> dict:
    """``fit_one_cycle`` on a fresh Learner; ``lr_max`` a number, or ``(start, stop)`` for ``slice(start, stop)``."""
    steps: list = []
    losses: list = []
    learn, model = _learner(impl, seed, device, groups, n_train, n_valid, steps, losses)
    if freeze:
        learn.freeze()
    top = slice(*lr_max) if isinstance(lr_max, (list, tuple)) else lr_max
    impl.fit_one_cycle(learn, n_epoch, top, div=div, div_final=div_final, pct_start=pct_start,
                       moms=None if moms is None else tuple(moms))
    return _result(steps, losses, model)


def freeze_flags(impl, *, seed: int, groups: int = 3, train_bn: bool = True, calls=("freeze", "unfreeze"),
                 device: str = "cpu") -> list:
    """Which parameters train (``"1"``) after each of ``calls``: ``"freeze"``, ``"unfreeze"`` or ``"freeze_to:N"``."""
    learn, model = _learner(impl, seed, device, groups, 1, 1, [], [], train_bn=train_bn)
    out = []
    for call in calls:
        if call.startswith("freeze_to:"):
            learn.freeze_to(int(call.split(":")[1]))
        else:
            getattr(learn, call)()
        out.append("".join("1" if p.requires_grad else "0" for p in model.parameters()))
    return out


def lr_ranges(impl, *, seed: int, cases=()) -> list:
    """``lr_range`` for each case ``[kind, a, b, n_groups]``: kind ``slice`` (``slice(a, b)``, ``a`` may be
    None), ``number`` (``a``) or ``list`` (``a`` is the list)."""
    out = []
    for kind, a, b, n in cases:
        value = slice(a, b) if kind == "slice" else a
        out.append([float(v) for v in impl.lr_range(value, n)])
    return out


def zoo(seed: int) -> nn.Module:
    """A model with every kind of layer ``norm_bias_params`` must tell apart (nested, bias-free, norms)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1, bias=False),
        nn.Sequential(nn.InstanceNorm2d(4, affine=True), nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))),
        nn.LayerNorm(4), nn.Linear(4, 2, bias=False), nn.GroupNorm(2, 4), nn.Embedding(3, 4),
        nn.BatchNorm3d(2), nn.Linear(2, 2))


def norm_bias_indices(impl, *, seed: int, with_bias: bool = True) -> list:
    """Positions (in ``model.parameters()``) of what ``norm_bias_params(zoo, with_bias)`` returns, in its order."""
    model = zoo(seed)
    params = list(model.parameters())
    found = impl.norm_bias_params(model, with_bias=with_bias)
    return [next((i for i, q in enumerate(params) if q is p), -1) for p in found]
