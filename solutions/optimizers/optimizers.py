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
        # BEGIN SOLUTION
        self.params = list(params)
        self.cbs = list(cbs) if isinstance(cbs, (list, tuple)) else [cbs]
        hypers: dict[str, t.Any] = {}
        for cb in self.cbs:
            hypers.update(getattr(cb, "defaults", None) or {})
        hypers.update(defaults)
        self.hypers = hypers
        self.state: dict[torch.Tensor, dict[str, t.Any]] = {}
        # END SOLUTION

    def step(self) -> None:
        """One update of every parameter whose ``.grad`` is not None (the others are skipped).

        For each such parameter, call every stepper with ``cb(p, **{**state, **hypers})``,
        merge a returned dict into that parameter's state, and store the state in ``self.state``.
        """
        # BEGIN SOLUTION
        for p in self.params:
            if p.grad is None:
                continue
            state = self.state.get(p, {})
            for cb in self.cbs:
                new = cb(p, **{**state, **self.hypers})
                if isinstance(new, dict):
                    state.update(new)
            self.state[p] = state
        # END SOLUTION

    def zero_grad(self) -> None:
        """Set the gradient of every parameter that has one to zero (in place, as fastai does)."""
        # BEGIN SOLUTION
        for p in self.params:
            if p.grad is not None:
                p.grad.detach_()
                p.grad.zero_()
        # END SOLUTION


def sgd_step(p: torch.Tensor, lr: float, **kwargs: t.Any) -> None:
    """Plain SGD: ``p = p - lr * p.grad`` (in place on ``p.data``)."""
    # BEGIN SOLUTION
    p.data.add_(p.grad.data, alpha=-lr)
    # END SOLUTION


def weight_decay(p: torch.Tensor, lr: float, wd: float, do_wd: bool = True, **kwargs: t.Any) -> None:
    """Decoupled weight decay: ``p = p * (1 - lr * wd)`` (only when ``do_wd`` and ``wd != 0``).

    Give the function the attribute ``weight_decay.defaults = dict(wd=0.)`` (after the def).
    """
    # BEGIN SOLUTION
    if do_wd and wd != 0:
        p.data.mul_(1 - lr * wd)
    # END SOLUTION


def l2_reg(p: torch.Tensor, lr: float, wd: float, do_wd: bool = True, **kwargs: t.Any) -> None:
    """L2 regularisation: ``p.grad = p.grad + wd * p`` (in place on the gradient; only when
    ``do_wd`` and ``wd != 0``). Defaults: ``l2_reg.defaults = dict(wd=0.)``."""
    # BEGIN SOLUTION
    if do_wd and wd != 0:
        p.grad.data.add_(p.data, alpha=wd)
    # END SOLUTION


def average_grad(p: torch.Tensor, mom: float, dampening: bool = False, grad_avg: torch.Tensor | None = None,
                 **kwargs: t.Any) -> dict[str, torch.Tensor]:
    """Moving average of the gradient: ``grad_avg = mom * grad_avg + damp * p.grad``.

    ``damp`` is ``1 - mom`` when ``dampening`` else ``1`` (fastai's momentum is undampened).
    ``grad_avg`` starts as zeros shaped like the gradient; return ``{'grad_avg': grad_avg}``.
    Defaults: ``average_grad.defaults = dict(mom=0.9)``.
    """
    # BEGIN SOLUTION
    if grad_avg is None:
        grad_avg = torch.zeros_like(p.grad.data)
    damp = 1 - mom if dampening else 1.0
    grad_avg.mul_(mom).add_(p.grad.data, alpha=damp)
    return {"grad_avg": grad_avg}
    # END SOLUTION


def average_sqr_grad(p: torch.Tensor, sqr_mom: float, dampening: bool = True, sqr_avg: torch.Tensor | None = None,
                     **kwargs: t.Any) -> dict[str, torch.Tensor]:
    """Moving average of the squared gradient: ``sqr_avg = sqr_mom * sqr_avg + damp * p.grad**2``.

    ``damp`` is ``1 - sqr_mom`` when ``dampening`` (the default here!) else ``1``. Starts at
    zeros; return ``{'sqr_avg': sqr_avg}``. Defaults: ``average_sqr_grad.defaults = dict(sqr_mom=0.99)``.
    """
    # BEGIN SOLUTION
    if sqr_avg is None:
        sqr_avg = torch.zeros_like(p.grad.data)
    damp = 1 - sqr_mom if dampening else 1.0
    sqr_avg.mul_(sqr_mom).addcmul_(p.grad.data, p.grad.data, value=damp)
    return {"sqr_avg": sqr_avg}
    # END SOLUTION


def momentum_step(p: torch.Tensor, lr: float, grad_avg: torch.Tensor, **kwargs: t.Any) -> None:
    """SGD with momentum: ``p = p - lr * grad_avg``."""
    # BEGIN SOLUTION
    p.data.add_(grad_avg, alpha=-lr)
    # END SOLUTION


def rms_prop_step(p: torch.Tensor, lr: float, sqr_avg: torch.Tensor, eps: float,
                  grad_avg: torch.Tensor | None = None, **kwargs: t.Any) -> None:
    """RMSProp: ``p = p - lr * g / (sqrt(sqr_avg) + eps)`` with ``g = grad_avg`` when given,
    else ``p.grad``. Defaults: ``rms_prop_step.defaults = dict(eps=1e-8)``."""
    # BEGIN SOLUTION
    denom = sqr_avg.sqrt().add_(eps)
    p.data.addcdiv_(grad_avg if grad_avg is not None else p.grad, denom, value=-lr)
    # END SOLUTION


def nesterov_step(p: torch.Tensor, lr: float, mom: float, grad_avg: torch.Tensor, **kwargs: t.Any) -> None:
    """Nesterov momentum (torch.optim's ``nesterov=True``): ``p = p - lr * (p.grad + mom * grad_avg)``.

    ``grad_avg`` is the undampened average that ``average_grad`` has just updated with this step's
    gradient (``grad_avg = mom * grad_avg + p.grad``).
    """
    # BEGIN SOLUTION
    p.data.add_(p.grad.data + mom * grad_avg, alpha=-lr)
    # END SOLUTION


def average_sqr_sum(p: torch.Tensor, sum_sqr: torch.Tensor | None = None, **kwargs: t.Any) -> dict[str, torch.Tensor]:
    """Adagrad's statistic, a running *sum* of the squared gradients: ``sum_sqr = sum_sqr + p.grad**2``.

    No decay, no averaging: every gradient ever seen counts in full. Starts at zeros shaped like the
    gradient; return ``{'sum_sqr': sum_sqr}``.
    """
    # BEGIN SOLUTION
    if sum_sqr is None:
        sum_sqr = torch.zeros_like(p.grad.data)
    sum_sqr.addcmul_(p.grad.data, p.grad.data)
    return {"sum_sqr": sum_sqr}
    # END SOLUTION


def adagrad_step(p: torch.Tensor, lr: float, sum_sqr: torch.Tensor, eps: float, **kwargs: t.Any) -> None:
    """Adagrad (torch.optim's): ``p = p - lr * p.grad / (sqrt(sum_sqr) + eps)``, ``eps`` *after* the
    square root. Defaults: ``adagrad_step.defaults = dict(eps=1e-10)``."""
    # BEGIN SOLUTION
    p.data.addcdiv_(p.grad.data, sum_sqr.sqrt().add_(eps), value=-lr)
    # END SOLUTION


def step_stat(p: torch.Tensor, step: int = 0, **kwargs: t.Any) -> dict[str, int]:
    """Count the steps of ``p``: return ``{'step': step + 1}`` (so the first step is 1)."""
    # BEGIN SOLUTION
    return {"step": step + 1}
    # END SOLUTION


def debias(mom: float, damp: float, step: int) -> float:
    """Bias correction of a moving average: ``damp * (1 - mom**step) / (1 - mom)``.

    With ``damp = 1 - mom`` this is ``1 - mom**step``: early averages started at zero are too
    small by exactly this factor.
    """
    # BEGIN SOLUTION
    return damp * (1 - mom**step) / (1 - mom)
    # END SOLUTION


def adam_step(p: torch.Tensor, lr: float, mom: float, step: int, sqr_mom: float, grad_avg: torch.Tensor,
              sqr_avg: torch.Tensor, eps: float, **kwargs: t.Any) -> None:
    """Adam's update with bias correction (``step`` counts from 1)::

        debias1 = debias(mom, 1 - mom, step);  debias2 = debias(sqr_mom, 1 - sqr_mom, step)
        p = p - lr / debias1 * grad_avg / (sqrt(sqr_avg / debias2) + eps)

    ``eps`` is added *after* the square root.
    """
    # BEGIN SOLUTION
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    p.data.addcdiv_(grad_avg, (sqr_avg / debias2).sqrt() + eps, value=-lr / debias1)
    # END SOLUTION


# TODO: give the steppers their `defaults` attributes here (their docstrings say which), e.g.
#       weight_decay.defaults = dict(wd=0.)
# BEGIN SOLUTION
weight_decay.defaults = dict(wd=0.0)  # type: ignore[attr-defined]
l2_reg.defaults = dict(wd=0.0)  # type: ignore[attr-defined]
average_grad.defaults = dict(mom=0.9)  # type: ignore[attr-defined]
average_sqr_grad.defaults = dict(sqr_mom=0.99)  # type: ignore[attr-defined]
rms_prop_step.defaults = dict(eps=1e-8)  # type: ignore[attr-defined]
adagrad_step.defaults = dict(eps=1e-10)  # type: ignore[attr-defined]
# END SOLUTION


def SGD(params: t.Iterable[torch.Tensor], lr: float, mom: float = 0.0, wd: float = 0.0,
        decouple_wd: bool = True, nesterov: bool = False) -> Optimizer:
    """SGD: steppers ``[weight_decay or l2_reg]``, then ``average_grad`` (only if ``mom != 0``),
    then ``sgd_step`` (``mom == 0``), ``momentum_step``, or ``nesterov_step`` when ``nesterov``
    (and ``mom != 0``). Hyper-parameters ``lr, mom, wd``."""
    # BEGIN SOLUTION
    cbs: list[Stepper] = [weight_decay] if decouple_wd else [l2_reg]
    if mom != 0:
        cbs.append(average_grad)
    cbs.append(sgd_step if mom == 0 else nesterov_step if nesterov else momentum_step)
    return Optimizer(params, cbs, lr=lr, mom=mom, wd=wd)
    # END SOLUTION


def Adagrad(params: t.Iterable[torch.Tensor], lr: float, eps: float = 1e-10, wd: float = 0.0,
            decouple_wd: bool = True) -> Optimizer:
    """Adagrad (torch.optim's, with ``lr_decay=0``): ``[weight_decay or l2_reg]``,
    ``average_sqr_sum``, ``adagrad_step``. Hyper-parameters ``lr, eps, wd``."""
    # BEGIN SOLUTION
    cbs: list[Stepper] = [weight_decay] if decouple_wd else [l2_reg]
    cbs += [average_sqr_sum, adagrad_step]
    return Optimizer(params, cbs, lr=lr, eps=eps, wd=wd)
    # END SOLUTION


def RMSProp(params: t.Iterable[torch.Tensor], lr: float, sqr_mom: float = 0.99, mom: float = 0.0, wd: float = 0.0,
            decouple_wd: bool = True, eps: float = 1e-8) -> Optimizer:
    """RMSProp: ``[weight_decay or l2_reg]``, ``average_grad`` (undampened, only if ``mom != 0``),
    ``average_sqr_grad``, ``rms_prop_step``. Hyper-parameters ``lr, mom, sqr_mom, wd, eps``."""
    # BEGIN SOLUTION
    cbs: list[Stepper] = [weight_decay] if decouple_wd else [l2_reg]
    cbs += [average_sqr_grad] if mom == 0 else [average_grad, average_sqr_grad]
    cbs.append(rms_prop_step)
    return Optimizer(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, wd=wd, eps=eps)
    # END SOLUTION


def Adam(params: t.Iterable[torch.Tensor], lr: float, mom: float = 0.9, sqr_mom: float = 0.99, eps: float = 1e-5,
         wd: float = 0.01, decouple_wd: bool = True) -> Optimizer:
    """Adam (AdamW with ``decouple_wd=True``, fastai's default, and ``wd=0.01`` by default):
    ``[weight_decay or l2_reg]``, ``average_grad`` *with* ``dampening=True`` (hint:
    ``functools.partial``), ``average_sqr_grad``, ``step_stat``, ``adam_step``.
    Hyper-parameters ``lr, mom, sqr_mom, eps, wd``."""
    # BEGIN SOLUTION
    cbs: list[Stepper] = [weight_decay] if decouple_wd else [l2_reg]
    cbs += [functools.partial(average_grad, dampening=True), average_sqr_grad, step_stat, adam_step]
    return Optimizer(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd)
    # END SOLUTION
