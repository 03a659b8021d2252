"""Trusted implementation of the `lr_find` API, built on fastai's own code.

- ``lr_find`` drives fastai's ``LRFinder`` callback, fastai's ``Recorder`` (its ``AvgSmoothLoss``)
  and ``TrainEvalCallback`` through the events ``Learner.fit`` sends them, with a minimal stand-in
  learner whose "training step" is ``trainer.train_step(lr)`` and whose ``save``/``load`` are
  ``trainer.save_state()``/``trainer.restore_state()``. The only change to fastai: the smoothed
  loss is kept in float64 (fastai: float32), so the reference is exact to float64 and a stop
  decision never hinges on float32 rounding.
- ``suggestion_window`` is the windowing code of ``Learner.lr_find`` (in float64: fastai's
  ``tensor()`` turns it into float32, which only rounds the numbers).
- ``suggest_valley``/``suggest_minimum``/``suggest_steep`` call fastai's ``valley``/``minimum``/``steep``.

``reference/lr_find/selftest.py`` compares all of this with a real ``Learner.lr_find`` run.
"""

from __future__ import annotations

import shutil
import tempfile
import typing as t
import warnings
from pathlib import Path
from types import SimpleNamespace

import torch

_fastai: SimpleNamespace | None = None


def fastai() -> SimpleNamespace:
    """The fastai pieces used here, imported on first use (fastai takes seconds to import)."""
    global _fastai
    if _fastai is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fastai.callback.core import CancelFitException, TrainEvalCallback
            from fastai.callback.schedule import LRFinder, minimum, steep, valley
            from fastai.learner import AvgSmoothLoss, Recorder
            from fastai.optimizer import Optimizer, sgd_step
            from fastcore.foundation import L

            class AvgSmoothLoss64(AvgSmoothLoss):
                """fastai's AvgSmoothLoss, accumulating in float64."""

                def reset(self) -> None:
                    super().reset()
                    self.val = self.val.double()

        _fastai = SimpleNamespace(**locals())
    return _fastai


class _StandInLearner:
    """What LRFinder, Recorder and TrainEvalCallback use of a fastai ``Learner``."""

    def __init__(self, trainer: t.Any, path: Path, start_lr: float, end_lr: float, num_it: int,
                 stop_div: bool, beta: float) -> None:
        fa = fastai()
        self.trainer = trainer
        self.path, self.model_dir = path, "models"
        self.model = torch.nn.Linear(1, 1)
        self.dls = SimpleNamespace(device=torch.device("cpu"))
        self.loss_func = None
        self.opt = fa.Optimizer(list(self.model.parameters()), [fa.sgd_step], lr=1e-3)
        self.metrics = fa.L()
        self.xb, self.yb = (torch.zeros(1, 1),), (torch.zeros(1),)
        self.training = True
        self.n_epoch, self.n_iter = 1, num_it
        recorder = fa.Recorder(add_time=False, beta=beta)
        recorder.smooth_loss = fa.AvgSmoothLoss64(beta=beta)
        self.recorder = recorder
        self.cbs = sorted([fa.TrainEvalCallback(), recorder,
                           fa.LRFinder(start_lr=start_lr, end_lr=end_lr, num_it=num_it, stop_div=stop_div)],
                          key=lambda cb: cb.order)
        for cb in self.cbs:
            cb.learn = self

    def __call__(self, event: str) -> None:
        for cb in self.cbs:
            cb(event)

    def save(self, file: str, with_opt: bool = True) -> None:
        self.trainer.save_state()
        target = self.path / self.model_dir / f"{file}.pth"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"")

    def load(self, file: str, with_opt: bool = True) -> None:
        self.trainer.restore_state()

    def fit(self) -> None:
        """``Learner.fit``'s events for one long training epoch, until LRFinder cancels the fit.

        Only the events one of the three callbacks defines are sent (the others are no-ops for
        them, and sending them would only cost time).
        """
        fa = fastai()
        try:
            self("before_fit")
            self("before_epoch")
            self("before_train")
            while True:
                self("before_batch")
                raw = self.trainer.train_step(self.opt.hypers[-1]["lr"])
                self.loss_grad = torch.tensor(float(raw), dtype=torch.float64)
                self.loss = self.loss_grad.clone()
                self("after_batch")
        except fa.CancelFitException:
            self("after_cancel_fit")
        self("after_fit")


def lr_find(trainer: t.Any, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100,
            stop_div: bool = True, beta: float = 0.98) -> tuple[list[float], list[float]]:
    """fastai's LR range test on ``trainer``: (recorder.lrs, recorder.losses) as lists of floats."""
    folder = Path(tempfile.mkdtemp(prefix="lr-find-ref-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learn = _StandInLearner(trainer, folder, start_lr, end_lr, num_it, stop_div, beta)
            learn.fit()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [float(v) for v in learn.recorder.lrs], [float(v) for v in learn.recorder.losses]


def suggestion_window(lrs: t.Sequence[float], losses: t.Sequence[float], num_it: int) -> tuple[list[float], list[float]]:
    """``Learner.lr_find``'s window: ``[num_it//10:-5]``, cut at the first NaN (fastai's code, float64)."""
    lrs_t = torch.tensor(list(lrs)[num_it // 10:-5], dtype=torch.float64)
    losses_t = torch.tensor(list(losses)[num_it // 10:-5], dtype=torch.float64)
    nan_idxs = torch.nonzero(torch.isnan(losses_t.view(-1)))
    if len(nan_idxs) > 0:
        drop_idx = min(nan_idxs)
        lrs_t = lrs_t[:drop_idx]
        losses_t = losses_t[:drop_idx]
    return [float(v) for v in lrs_t], [float(v) for v in losses_t]


def _tensors(lrs: t.Sequence[float], losses: t.Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(list(lrs), dtype=torch.float64), torch.tensor(list(losses), dtype=torch.float64)


def suggest_valley(lrs: t.Sequence[float], losses: t.Sequence[float]) -> float:
    # fastai's valley only indexes and compares, so Python floats give the same answer as float64
    # tensors, about 50 times faster (its double loop is O(n**2))
    return float(fastai().valley([float(v) for v in lrs], [float(v) for v in losses], len(lrs))[0])


def suggest_minimum(lrs: t.Sequence[float], losses: t.Sequence[float]) -> float:
    return float(fastai().minimum(*_tensors(lrs, losses), len(lrs))[0])


def suggest_steep(lrs: t.Sequence[float], losses: t.Sequence[float]) -> float:
    return float(fastai().steep(*_tensors(lrs, losses), len(lrs))[0])
