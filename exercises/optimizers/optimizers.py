"""fastai's generic optimizer from scratch / Der generische Optimierer von fastai, selbst gebaut.

fastai (fastbook ch. 16) builds every optimizer from one small ``Optimizer`` class and a list of
*steppers* (callbacks). For every parameter ``p`` that has a gradient, ``Optimizer.step()`` calls
the steppers in order, each with the parameter and all its state and hyper-parameters::

    for cb in cbs:
        new = cb(p, **{**state, **hypers})     # hyper-parameters win over state entries
        if new is a dict: state.update(new)    # statistics are *returned* and kept in the state

A stepper either **changes the parameter** in place (``sgd_step``, ``weight_decay``) or
**computes a statistic** that it returns as a dict (``average_grad`` returns
``{'grad_avg': ...}``). The state is **per parameter**: two parameters never share a ``grad_avg``.

Conventions (fastai's, not torch.optim's; the checks compare 20-step trajectories with
``fastai.optimizer`` within 1e-6 in float64, and every stepper alone within the course tolerances):

- Momentum is *undampened* by default: ``grad_avg = mom * grad_avg + grad`` (SGD, RMSProp);
  Adam dampens it: ``grad_avg = mom * grad_avg + (1 - mom) * grad``.
- The squared average is dampened by default: ``sqr_avg = sqr_mom * sqr_avg + (1 - sqr_mom) * grad**2``.
- Adam's ``eps`` goes *outside* the square root, and both averages are bias-corrected with the
  step counter, which counts from **1** (the first step is step 1).
- Weight decay: decoupled (``decouple_wd=True``, "true weight decay", AdamW) multiplies the
  parameter: ``p = p * (1 - lr * wd)``; L2 regularisation (``decouple_wd=False``) adds to the
  gradient instead: ``grad = grad + wd * p``. Both come *first* in the list of steppers.
- Update ``p.data`` (or work under ``torch.no_grad()``), in place, keeping its dtype and device.

Two more optimizers that fastai does not ship follow **torch.optim's** conventions (the checks
compare 20-step trajectories with ``torch.optim`` itself, float64, rtol 1e-9):

- Nesterov momentum, as ``torch.optim.SGD(nesterov=True, momentum=mom, dampening=0)``: the
  undampened average ``grad_avg = mom * grad_avg + grad`` (``average_grad``), then
  ``p = p - lr * (grad + mom * grad_avg)`` (``nesterov_step``): the step looks ahead along the
  momentum instead of taking ``grad_avg`` itself.
- Adagrad, as ``torch.optim.Adagrad(lr_decay=0, initial_accumulator_value=0, eps=1e-10)``: a running
  *sum* (not an average) of the squared gradients ``sum_sqr = sum_sqr + grad**2``
  (``average_sqr_sum``), then ``p = p - lr * grad / (sqrt(sum_sqr) + eps)`` (``adagrad_step``),
  ``eps`` outside the square root.

Forbidden (from scratch): ``torch.optim`` (every optimizer in it) and ``fastai`` (in particular
``fastai.optimizer``); breaking this rule costs all points of the exercise (dynamic code such as
``exec``, ``eval``, ``importlib`` or ``__import__`` counts as breaking it). Plain tensor
arithmetic is all you need.
"""

from __future__ import annotations

import functools
import typing as t

import torch

Stepper = t.Callable[..., t.Any]


class Optimizer:
    """A generic optimizer: ``Optimizer(params, cbs, **defaults)``.

    - ``params``: an iterable of tensors (e.g. ``model.parameters()``); keep them in a list.
    - ``cbs``: the list of steppers, called in this order for every parameter.
    - ``defaults``: hyper-parameters such as ``lr=0.1, mom=0.9``. Start from the ``defaults``
      dict that a stepper may carry as an attribute (``average_grad.defaults == {'mom': 0.9}``),
      stepper by stepper in order, then let the keyword arguments override them. Keep the result
      in ``self.hypers`` (one dict for all parameters).
    - ``self.state``: a dict from each parameter (the tensor object itself is the key; tensors
      hash by identity) to that parameter's own state dict, e.g. ``{'grad_avg': ..., 'step': 3}``.
      It holds what the steppers returned, and nothing for a parameter that never had a gradient.
    """

    def __init__(self, params: t.Iterable[torch.Tensor], cbs: t.Sequence[Stepper] | Stepper,
                 **defaults: t.Any) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise optimizers)")

    def step(self) -> None:
        """One update of every parameter whose ``.grad`` is not None (the others are skipped).

        For each such parameter, call every stepper with ``cb(p, **{**state, **hypers})``,
        merge a returned dict into that parameter's state, and store the state in ``self.state``.
        """
        # TODO: your code here
        raise NotImplementedError("step: not implemented yet (exercise optimizers)")

    def zero_grad(self) -> None:
        """Set the gradient of every parameter that has one to zero (in place, as fastai does)."""
        # TODO: your code here
        raise NotImplementedError("zero_grad: not implemented yet (exercise optimizers)")


def sgd_step(p: torch.Tensor, lr: float, **kwargs: t.Any) -> None:
    """Plain SGD: ``p = p - lr * p.grad`` (in place on ``p.data``)."""
    # TODO: your code here
    raise NotImplementedError("sgd_step: not implemented yet (exercise optimizers)")


def weight_decay(p: torch.Tensor, lr: float, wd: float, do_wd: bool = True, **kwargs: t.Any) -> None:
    """Decoupled weight decay: ``p = p * (1 - lr * wd)`` (only when ``do_wd`` and ``wd != 0``).

    Give the function the attribute ``weight_decay.defaults = dict(wd=0.)`` (after the def).
    """
    # TODO: your code here
    raise NotImplementedError("weight_decay: not implemented yet (exercise optimizers)")


def l2_reg(p: torch.Tensor, lr: float, wd: float, do_wd: bool = True, **kwargs: t.Any) -> None:
    """L2 regularisation: ``p.grad = p.grad + wd * p`` (in place on the gradient; only when
    ``do_wd`` and ``wd != 0``). Defaults: ``l2_reg.defaults = dict(wd=0.)``."""
    # TODO: your code here
    raise NotImplementedError("l2_reg: not implemented yet (exercise optimizers)")


def average_grad(p: torch.Tensor, mom: float, dampening: bool = False, grad_avg: torch.Tensor | None = None,
                 **kwargs: t.Any) -> dict[str, torch.Tensor]:
    """Moving average of the gradient: ``grad_avg = mom * grad_avg + damp * p.grad``.

    ``damp`` is ``1 - mom`` when ``dampening`` else ``1`` (fastai's momentum is undampened).
    ``grad_avg`` starts as zeros shaped like the gradient; return ``{'grad_avg': grad_avg}``.
    Defaults: ``average_grad.defaults = dict(mom=0.9)``.
    """
    # TODO: your code here
    raise NotImplementedError("average_grad: not implemented yet (exercise optimizers)")


def average_sqr_grad(p: torch.Tensor, sqr_mom: float, dampening: bool = True, sqr_avg: torch.Tensor | None = None,
                     **kwargs: t.Any) -> dict[str, torch.Tensor]:
    """Moving average of the squared gradient: ``sqr_avg = sqr_mom * sqr_avg + damp * p.grad**2``.

    ``damp`` is ``1 - sqr_mom`` when ``dampening`` (the default here!) else ``1``. Starts at
    zeros; return ``{'sqr_avg': sqr_avg}``. Defaults: ``average_sqr_grad.defaults = dict(sqr_mom=0.99)``.
    """
    # TODO: your code here
    raise NotImplementedError("average_sqr_grad: not implemented yet (exercise optimizers)")


def momentum_step(p: torch.Tensor, lr: float, grad_avg: torch.Tensor, **kwargs: t.Any) -> None:
    """SGD with momentum: ``p = p - lr * grad_avg``."""
    # TODO: your code here
    raise NotImplementedError("momentum_step: not implemented yet (exercise optimizers)")


def rms_prop_step(p: torch.Tensor, lr: float, sqr_avg: torch.Tensor, eps: float,
                  grad_avg: torch.Tensor | None = None, **kwargs: t.Any) -> None:
    """RMSProp: ``p = p - lr * g / (sqrt(sqr_avg) + eps)`` with ``g = grad_avg`` when given,
    else ``p.grad``. Defaults: ``rms_prop_step.defaults = dict(eps=1e-8)``."""
    # TODO: your code here
    raise NotImplementedError("rms_prop_step: not implemented yet (exercise optimizers)")


def nesterov_step(p: torch.Tensor, lr: float, mom: float, grad_avg: torch.Tensor, **kwargs: t.Any) -> None:
    """Nesterov momentum (torch.optim's ``nesterov=True``): ``p = p - lr * (p.grad + mom * grad_avg)``.

    ``grad_avg`` is the undampened average that ``average_grad`` has just updated with this step's
    gradient (``grad_avg = mom * grad_avg + p.grad``).
    """
    # TODO: your code here
    raise NotImplementedError("nesterov_step: not implemented yet (exercise optimizers)")


def average_sqr_sum(p: torch.Tensor, sum_sqr: torch.Tensor | None = None, **kwargs: t.Any) -> dict[str, torch.Tensor]:
    """Adagrad's statistic, a running *sum* of the squared gradients: ``sum_sqr = sum_sqr + p.grad**2``.

    No decay, no averaging: every gradient ever seen counts in full. Starts at zeros shaped like the
    gradient; return ``{'sum_sqr': sum_sqr}``.
    """
    # TODO: your code here
    raise NotImplementedError("average_sqr_sum: not implemented yet (exercise optimizers)")


def adagrad_step(p: torch.Tensor, lr: float, sum_sqr: torch.Tensor, eps: float, **kwargs: t.Any) -> None:
    """Adagrad (torch.optim's): ``p = p - lr * p.grad / (sqrt(sum_sqr) + eps)``, ``eps`` *after* the
    square root. Defaults: ``adagrad_step.defaults = dict(eps=1e-10)``."""
    # TODO: your code here
    raise NotImplementedError("adagrad_step: not implemented yet (exercise optimizers)")


def step_stat(p: torch.Tensor, step: int = 0, **kwargs: t.Any) -> dict[str, int]:
    """Count the steps of ``p``: return ``{'step': step + 1}`` (so the first step is 1)."""
    # TODO: your code here
    raise NotImplementedError("step_stat: not implemented yet (exercise optimizers)")


def debias(mom: float, damp: float, step: int) -> float:
    """Bias correction of a moving average: ``damp * (1 - mom**step) / (1 - mom)``.

    With ``damp = 1 - mom`` this is ``1 - mom**step``: early averages started at zero are too
    small by exactly this factor.
    """
    # TODO: your code here
    raise NotImplementedError("debias: not implemented yet (exercise optimizers)")


def adam_step(p: torch.Tensor, lr: float, mom: float, step: int, sqr_mom: float, grad_avg: torch.Tensor,
              sqr_avg: torch.Tensor, eps: float, **kwargs: t.Any) -> None:
    """Adam's update with bias correction (``step`` counts from 1)::

        debias1 = debias(mom, 1 - mom, step);  debias2 = debias(sqr_mom, 1 - sqr_mom, step)
        p = p - lr / debias1 * grad_avg / (sqrt(sqr_avg / debias2) + eps)

    ``eps`` is added *after* the square root.
    """
    # TODO: your code here
    raise NotImplementedError("adam_step: not implemented yet (exercise optimizers)")


# TODO: give the steppers their `defaults` attributes here (their docstrings say which), e.g.
#       weight_decay.defaults = dict(wd=0.)


def SGD(params: t.Iterable[torch.Tensor], lr: float, mom: float = 0.0, wd: float = 0.0,
        decouple_wd: bool = True, nesterov: bool = False) -> Optimizer:
    """SGD: steppers ``[weight_decay or l2_reg]``, then ``average_grad`` (only if ``mom != 0``),
    then ``sgd_step`` (``mom == 0``), ``momentum_step``, or ``nesterov_step`` when ``nesterov``
    (and ``mom != 0``). Hyper-parameters ``lr, mom, wd``."""
    # TODO: your code here
    raise NotImplementedError("SGD: not implemented yet (exercise optimizers)")


def Adagrad(params: t.Iterable[torch.Tensor], lr: float, eps: float = 1e-10, wd: float = 0.0,
            decouple_wd: bool = True) -> Optimizer:
    """Adagrad (torch.optim's, with ``lr_decay=0``): ``[weight_decay or l2_reg]``,
    ``average_sqr_sum``, ``adagrad_step``. Hyper-parameters ``lr, eps, wd``."""
    # TODO: your code here
    raise NotImplementedError("Adagrad: not implemented yet (exercise optimizers)")


def RMSProp(params: t.Iterable[torch.Tensor], lr: float, sqr_mom: float = 0.99, mom: float = 0.0, wd: float = 0.0,
            decouple_wd: bool = True, eps: float = 1e-8) -> Optimizer:
    """RMSProp: ``[weight_decay or l2_reg]``, ``average_grad`` (undampened, only if ``mom != 0``),
    ``average_sqr_grad``, ``rms_prop_step``. Hyper-parameters ``lr, mom, sqr_mom, wd, eps``."""
    # TODO: your code here
    raise NotImplementedError("RMSProp: not implemented yet (exercise optimizers)")


def Adam(params: t.Iterable[torch.Tensor], lr: float, mom: float = 0.9, sqr_mom: float = 0.99, eps: float = 1e-5,
         wd: float = 0.01, decouple_wd: bool = True) -> Optimizer:
    """Adam (AdamW with ``decouple_wd=True``, fastai's default, and ``wd=0.01`` by default):
    ``[weight_decay or l2_reg]``, ``average_grad`` *with* ``dampening=True`` (hint:
    ``functools.partial``), ``average_sqr_grad``, ``step_stat``, ``adam_step``.
    Hyper-parameters ``lr, mom, sqr_mom, eps, wd``."""
    # TODO: your code here
    raise NotImplementedError("Adam: not implemented yet (exercise optimizers)")
