"""fastai's own ``Learner.fine_tune`` behind the exercise's API (trusted process only).

- ``Learner(model, dls, loss_func, opt_func=Adam, lr, splitter, cbs, train_bn, wd_bn_bias, moms)`` is a
  real ``fastai.learner.Learner`` with fastai's ``Adam`` and, by default, the splitter of
  ``vision_learner`` (``model[0]`` / ``model[1:]``), with ``TrainEvalCallback`` and ``CastToTensor``
  only (no logging; ``reference/callbacks/implementation.py`` says why the callbacks are named).
- ``fit_one_cycle`` and ``fine_tune`` are fastai's. ``fine_tune(..., base_lr=None)``, which fastai
  does not have, freezes, runs fastai's ``LRFinder`` through ``reference/lr_find``'s driver on a
  trainer over this Learner and takes fastai's ``valley`` of the window ``Learner.lr_find`` cuts.
- ``norm_bias_params``, ``even_mults`` and ``lr_range`` (the ``set_hyper`` rule) are fastai's.
"""

from __future__ import annotations

import copy
import typing as t
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import numpy as np
    from fastai.callback.core import Callback, TrainEvalCallback
    import fastai.callback.schedule  # noqa: F401 - patches fit_one_cycle and fine_tune onto Learner
    from fastai.learner import CastToTensor
    from fastai.learner import Learner as _FastaiLearner
    from fastai.optimizer import Adam
    from fastai.torch_core import even_mults as _even_mults
    from fastai.torch_core import norm_bias_params as _norm_bias_params
    from fastai.torch_core import params

from reference.lr_find import implementation as lr_find_reference

__all__ = ["Callback", "Learner", "fit_one_cycle", "fine_tune", "norm_bias_params", "even_mults", "lr_range"]


def default_splitter(model):
    """``vision_learner``'s splitter: body, then the rest."""
    return [params(model[0]), params(model[1:])]


def Learner(model, dls, loss_func, opt_func=Adam, lr=1e-3, splitter=None, cbs=(), train_bn=True,  # noqa: N802
            wd_bn_bias=False, moms=(0.95, 0.85, 0.95)):
    """A fastai ``Learner`` configured like the exercise's (see the module docstring)."""
    learn = _FastaiLearner(dls, model, loss_func=loss_func, opt_func=opt_func, lr=lr,
                           splitter=splitter or default_splitter, cbs=[TrainEvalCallback(), CastToTensor(), *cbs],
                           train_bn=train_bn, wd_bn_bias=wd_bn_bias, moms=moms, default_cbs=False)
    learn.logger = lambda *args, **kwargs: None
    return learn


def fit_one_cycle(learn, n_epoch, lr_max=None, div=25., div_final=1e5, pct_start=0.25, moms=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn.fit_one_cycle(n_epoch, lr_max=lr_max, div=div, div_final=div_final, pct_start=pct_start, moms=moms)


class _Trainer:
    """``save_state``/``train_step``/``restore_state`` on a fastai Learner (what ``LRFinder`` does to it)."""

    def __init__(self, learn) -> None:
        self.learn, self.batch, self.saved = learn, 0, None

    def save_state(self) -> None:
        opt = self.learn.opt
        self.saved = (copy.deepcopy(self.learn.model.state_dict()), {p: copy.deepcopy(s) for p, s in opt.state.items()})

    def train_step(self, lr: float) -> float:
        learn, train = self.learn, self.learn.dls.train
        xb, yb = train[self.batch % len(train)]
        self.batch += 1
        learn.opt.set_hyper("lr", lr)
        learn.model.train()
        loss = learn.loss_func(learn.model(xb), yb)
        loss.backward()
        learn.opt.step()
        learn.opt.zero_grad()
        return float(loss.detach())

    def restore_state(self) -> None:
        model_state, opt_state = self.saved
        self.learn.model.load_state_dict(model_state)
        self.learn.opt.state.clear()
        self.learn.opt.state.update(opt_state)


def suggest_lr(learn, start_lr=1e-7, end_lr=10, num_it=100) -> float:
    lrs, losses = lr_find_reference.lr_find(_Trainer(learn), start_lr, end_lr, num_it)
    return float(lr_find_reference.suggest_valley(*lr_find_reference.suggestion_window(lrs, losses, num_it)))


def fine_tune(learn, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
    if base_lr is None:
        learn.freeze()
        base_lr = suggest_lr(learn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn.fine_tune(epochs, base_lr=base_lr, freeze_epochs=freeze_epochs, lr_mult=lr_mult,
                   pct_start=pct_start, div=div)


def norm_bias_params(model, with_bias=True):
    return list(_norm_bias_params(model, with_bias=with_bias))


def even_mults(start, stop, n):
    return [float(v) for v in np.atleast_1d(_even_mults(start, stop, n))]


def lr_range(lr, n_groups):
    """What ``Optimizer.set_hyper`` makes of ``lr`` for ``n_groups`` groups (fastai's code, without the optimizer)."""
    if isinstance(lr, slice):
        return [float(v) for v in (np.atleast_1d(_even_mults(lr.start, lr.stop, n_groups)) if lr.start
                                   else [lr.stop / 10] * (n_groups - 1) + [lr.stop])]
    values = list(lr) if isinstance(lr, (list, tuple)) else [lr]
    if len(values) == 1:
        values = values * n_groups
    return [float(v) for v in values]
