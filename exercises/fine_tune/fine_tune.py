"""Fine-tuning on your own parts / Feinabstimmung mit den eigenen Bausteinen (fastai's ``fine_tune``).

Transfer learning in two phases (fastbook ch. 5, ``Learner.fine_tune``): a pretrained **body**
(Rumpf) already knows useful features; the new **head** (Kopf) knows nothing. So first the body is
**frozen** (eingefroren) and only the head trains, for ``freeze_epochs`` one-cycle epochs; then
everything is **unfrozen** and trains for ``epochs`` more, the body with a learning rate
``lr_mult`` times smaller than the head's (discriminative learning rates, one per parameter group)::

    fine_tune(learn, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
        learn.freeze()
        fit_one_cycle(learn, freeze_epochs, slice(base_lr), pct_start=0.99)
        base_lr /= 2
        learn.unfreeze()
        fit_one_cycle(learn, epochs, slice(base_lr / lr_mult, base_lr), pct_start=pct_start, div=div)

You build it from **your own packages** of the other exercises, exactly as fastai builds it from
its own: ``callbacks`` (``Learner``, ``Callback``), ``optimizers`` (``Adam``, the per-parameter
``state``), ``one_cycle`` (``combined_cos``), ``cnn_learner`` (``cnn_splitter``) and ``lr_find``
(``lr_find``, ``suggestion_window``, ``suggest_valley``). Import them by name (``from callbacks import
Learner``); no other package of your submission may be imported. When one of them is broken, a
failing check says which exercise to fix first.

The pieces (every one follows fastai 2.8; the checks compare each parameter group's learning rate
and momentum at every batch, which parameters train, every loss and the final weights with
fastai's own ``Learner.fine_tune`` on the same model, data and seed):

``norm_bias_params(model, with_bias=True)``
    fastai's ``norm_bias_params``: all parameters of normalisation layers (``nn.BatchNorm1d/2d/3d``,
    ``nn.InstanceNorm1d/2d/3d``, ``nn.LayerNorm``), searched recursively, and (``with_bias``) the
    ``bias`` of every other module that has one; a module's children come before its own bias.

``even_mults(start, stop, n)`` and ``lr_range(lr, n_groups)``
    How one learning rate becomes one per group (``Optimizer.set_hyper``): a ``slice(start, stop)``
    gives ``n`` values from ``start`` to ``stop`` spaced **geometrically** (``even_mults``: each is
    the last one times ``(stop/start) ** (1/(n-1))``); a ``slice(stop)`` gives ``stop / 10`` for
    every group but the last, which gets ``stop``; a number is the same for every group; a list
    or tuple of ``n_groups`` values is taken as it is (one value is repeated).

``GroupOptimizer(param_groups, opt_func, lr)``
    Your ``optimizers.Optimizer`` has one ``hypers`` dict; here every **parameter group** gets its
    own optimizer ``opt_func(group, lr)``. ``hypers`` is the list of their ``hypers`` dicts (group
    order); ``set_hyper(name, value)`` sets ``name`` in each of them from ``lr_range(value, ...)``;
    ``step()``/``zero_grad()`` call every optimizer's; ``state_of(p)`` is parameter ``p``'s state
    dict in the optimizer that holds it (created empty when missing); ``clear_state()`` forgets
    every statistic but keeps ``do_wd`` and ``force_train`` (fastai's ``_keep_on_clear``).
    ``freeze_to(n)``: groups before ``n`` (negative ``n`` counts from the end) get
    ``requires_grad = False`` except parameters whose state has ``force_train``; the others train.

``ParamScheduler(scheds)``
    A callback (``order = 60``) that sets every hyper-parameter of ``scheds`` (name -> a schedule
    ``f(pos)``, or a list with one schedule per group) in ``before_batch`` of **training** batches,
    at ``pos = train_iter / (n_epoch * n_iter)``, where ``train_iter`` counts the training batches of
    this ``fit`` before this one (validation batches change nothing).

``Learner(model, dls, loss_func, opt_func=Adam, lr=1e-3, splitter=cnn_splitter, cbs=(), train_bn=True, wd_bn_bias=False, moms=(0.95, 0.85, 0.95))``
    Your ``callbacks.Learner`` with fastai's extras. It keeps **one** ``GroupOptimizer`` across
    ``fit`` calls (``create_opt()`` makes it from ``splitter(model)`` the first time it is needed;
    ``fit`` sets every group's ``lr`` to ``learn.lr`` first, as fastai's does). ``create_opt`` marks
    ``norm_bias_params(model)`` with ``do_wd=False`` unless ``wd_bn_bias`` (no weight decay on
    BatchNorm and biases), and ``norm_bias_params(model, with_bias=False)`` with ``force_train=True``
    when ``train_bn`` (a frozen body keeps training its BatchNorm layers). ``freeze_to(n)``,
    ``freeze()`` (``freeze_to(-1)``) and ``unfreeze()`` (``freeze_to(0)``) create the optimizer if
    needed, freeze, then ``clear_state()``. ``learn.scheduler`` is a ``ParamScheduler`` given to the
    base Learner with the other callbacks; ``fit_one_cycle`` fills in its schedules.

``fit_one_cycle(learn, n_epoch, lr_max=None, div=25., div_final=1e5, pct_start=0.25, moms=None)``
    fastai's: ``set_hyper("lr", lr_max or learn.lr)``, then per group
    ``combined_cos(pct_start, lr/div, lr, lr/div_final)`` for ``lr``, and
    ``combined_cos(pct_start, *moms)`` (``learn.moms`` by default) for ``mom``, then ``fit``.

``LearnerTrainer(learn)`` and ``suggest_lr(learn, start_lr=1e-7, end_lr=10, num_it=100)``
    The trainer your ``lr_find`` needs: ``save_state()`` copies the model's ``state_dict`` and the
    optimizer's states; ``train_step(lr)`` sets every group's ``lr``, trains on the next training
    batch (in order, starting over after the last) in training mode and returns the loss;
    ``restore_state()`` puts both back. ``suggest_lr`` runs ``lr_find`` and returns
    ``suggest_valley`` of its ``suggestion_window``. ``fine_tune(..., base_lr=None)`` freezes, then
    uses ``suggest_lr(learn)`` as ``base_lr``.

Shapes: ``model`` is ``nn.Sequential(body, head)``; ``dls.train`` and ``dls.valid`` are lists of
``(xb, yb)`` batches. Forbidden: fastai and fasttransform, in this package and in the packages
it imports (breaking this voids the exercise).
"""

from __future__ import annotations

import copy
import typing as t

import torch
from callbacks import Callback
from callbacks import Learner as BasicLearner
from cnn_learner import cnn_splitter
from lr_find import lr_find, suggest_valley, suggestion_window
from one_cycle import combined_cos
from optimizers import Adam
from torch import nn

__all__ = ["Callback", "norm_bias_params", "even_mults", "lr_range", "GroupOptimizer", "ParamScheduler", "Learner",
           "fit_one_cycle", "LearnerTrainer", "suggest_lr", "fine_tune"]

#: Normalisation layers (fastai's ``norm_types``).
NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
              nn.InstanceNorm3d, nn.LayerNorm)


def norm_bias_params(model: nn.Module, with_bias: bool = True) -> list[nn.Parameter]:
    """Parameters of normalisation layers and (``with_bias``) the biases of the other modules."""
    # TODO: your code here
    raise NotImplementedError("norm_bias_params: not implemented yet (exercise fine_tune)")


def even_mults(start: float, stop: float, n: int) -> list[float]:
    """``n`` values from ``start`` to ``stop``, each the previous one times the same factor."""
    # TODO: your code here
    raise NotImplementedError("even_mults: not implemented yet (exercise fine_tune)")


def lr_range(lr: float | slice | t.Sequence[float], n_groups: int) -> list[float]:
    """One value per parameter group, as fastai's ``set_hyper`` spreads ``lr`` (see the module docstring)."""
    # TODO: your code here
    raise NotImplementedError("lr_range: not implemented yet (exercise fine_tune)")


class GroupOptimizer:
    """One ``opt_func(group, lr)`` per parameter group, driven together (see the module docstring)."""

    def __init__(self, param_groups: t.Sequence[t.Sequence[torch.Tensor]], opt_func: t.Callable[..., t.Any],
                 lr: float) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise fine_tune)")

    @property
    def hypers(self) -> list[dict[str, t.Any]]:
        """The hyper-parameters of each group, in group order (the optimizers' own dicts)."""
        # TODO: your code here
        raise NotImplementedError("hypers: not implemented yet (exercise fine_tune)")

    def set_hyper(self, name: str, value: t.Any) -> None:
        """Set ``name`` in every group, spread by ``lr_range``."""
        # TODO: your code here
        raise NotImplementedError("set_hyper: not implemented yet (exercise fine_tune)")

    def step(self) -> None:
        # TODO: your code here
        raise NotImplementedError("step: not implemented yet (exercise fine_tune)")

    def zero_grad(self) -> None:
        # TODO: your code here
        raise NotImplementedError("zero_grad: not implemented yet (exercise fine_tune)")

    def state_of(self, p: torch.Tensor) -> dict[str, t.Any]:
        """``p``'s state dict in the optimizer of its group (an unused dict when no group holds ``p``)."""
        # TODO: your code here
        raise NotImplementedError("state_of: not implemented yet (exercise fine_tune)")

    def clear_state(self) -> None:
        """Forget every statistic; keep ``do_wd`` and ``force_train``."""
        # TODO: your code here
        raise NotImplementedError("clear_state: not implemented yet (exercise fine_tune)")

    def freeze_to(self, n: int) -> None:
        """Groups before ``n`` stop training (but ``force_train`` parameters); the others train."""
        # TODO: your code here
        raise NotImplementedError("freeze_to: not implemented yet (exercise fine_tune)")


class ParamScheduler(Callback):
    """Sets scheduled hyper-parameters before every training batch (``scheds``: name -> schedule(s))."""

    order = 60

    def __init__(self, scheds: dict[str, t.Any] | None = None) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise fine_tune)")

    def before_fit(self) -> None:
        # TODO: your code here
        raise NotImplementedError("before_fit: not implemented yet (exercise fine_tune)")

    def before_batch(self) -> None:
        # TODO: your code here
        raise NotImplementedError("before_batch: not implemented yet (exercise fine_tune)")

    def after_batch(self) -> None:
        # TODO: your code here
        raise NotImplementedError("after_batch: not implemented yet (exercise fine_tune)")


class Learner(BasicLearner):
    """Your ``callbacks.Learner`` with parameter groups, freezing and scheduling (see the module docstring)."""

    def __init__(self, model: nn.Module, dls: t.Any, loss_func: t.Callable[..., t.Any],
                 opt_func: t.Callable[..., t.Any] = Adam, lr: float = 1e-3,
                 splitter: t.Callable[[nn.Module], t.Any] = cnn_splitter, cbs: t.Sequence[Callback] = (),
                 train_bn: bool = True, wd_bn_bias: bool = False,
                 moms: tuple[float, float, float] = (0.95, 0.85, 0.95)) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise fine_tune)")

    def create_opt(self) -> None:
        """The one GroupOptimizer of this Learner, with ``do_wd`` and ``force_train`` marked."""
        # TODO: your code here
        raise NotImplementedError("create_opt: not implemented yet (exercise fine_tune)")

    def fit(self, n_epoch: int) -> None:
        """Train ``n_epoch`` epochs with the Learner's one optimizer (every group's lr set to ``self.lr`` first)."""
        # TODO: your code here
        raise NotImplementedError("fit: not implemented yet (exercise fine_tune)")

    def freeze_to(self, n: int) -> None:
        # TODO: your code here
        raise NotImplementedError("freeze_to: not implemented yet (exercise fine_tune)")

    def freeze(self) -> None:
        # TODO: your code here
        raise NotImplementedError("freeze: not implemented yet (exercise fine_tune)")

    def unfreeze(self) -> None:
        # TODO: your code here
        raise NotImplementedError("unfreeze: not implemented yet (exercise fine_tune)")


def fit_one_cycle(learn: Learner, n_epoch: int, lr_max: t.Any = None, div: float = 25., div_final: float = 1e5,
                  pct_start: float = 0.25, moms: tuple[float, float, float] | None = None) -> None:
    """fastai's ``fit_one_cycle``: one cosine cycle per group for ``lr``, the inverse one for ``mom``."""
    # TODO: your code here
    raise NotImplementedError("fit_one_cycle: not implemented yet (exercise fine_tune)")


class LearnerTrainer:
    """The ``save_state``/``train_step``/``restore_state`` trainer your ``lr_find`` drives."""

    def __init__(self, learn: Learner) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise fine_tune)")

    def save_state(self) -> None:
        # TODO: your code here
        raise NotImplementedError("save_state: not implemented yet (exercise fine_tune)")

    def train_step(self, lr: float) -> float:
        # TODO: your code here
        raise NotImplementedError("train_step: not implemented yet (exercise fine_tune)")

    def restore_state(self) -> None:
        # TODO: your code here
        raise NotImplementedError("restore_state: not implemented yet (exercise fine_tune)")


def suggest_lr(learn: Learner, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100) -> float:
    """fastai's ``valley`` suggestion of an ``lr_find`` run on ``learn`` (which it leaves as it was)."""
    # TODO: your code here
    raise NotImplementedError("suggest_lr: not implemented yet (exercise fine_tune)")


def fine_tune(learn: Learner, epochs: int, base_lr: float | None = 2e-3, freeze_epochs: int = 1,
              lr_mult: float = 100, pct_start: float = 0.3, div: float = 5.0) -> None:
    """fastai's ``Learner.fine_tune``: the head alone, then everything with discriminative rates."""
    # TODO: your code here
    raise NotImplementedError("fine_tune: not implemented yet (exercise fine_tune)")
