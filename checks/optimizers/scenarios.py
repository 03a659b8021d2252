"""Scenarios for `optimizers`: they drive your optimizer the way a training loop would.

Each function gets the exercise's API as ``impl`` (your package, or, for the graders' expected
values, ``fastai.optimizer``, and ``torch.optim`` for Nesterov and Adagrad), builds everything from
plain arguments, runs it and returns data.

- ``trajectory``: several float64 parameter tensors made from ``seed``, a fixed smooth loss,
  ``steps`` rounds of ``zero_grad(); loss.backward(); step()``; returns every parameter after every
  step and each parameter's final state. One parameter never gets a gradient (it must be skipped).
- ``run_stepper``: one stepper called on its own, ``cb(p, **kwargs)``, on a parameter whose
  ``.grad`` is set; returns the parameter, its gradient and what the stepper returned.
- ``zero_grad_effect``: gradients accumulated twice, ``zero_grad()``, one more gradient, one SGD
  step; returns the parameters (what ``zero_grad`` did shows in them).
"""

from __future__ import annotations

import functools

import torch

#: Shapes of the trained parameters; two share a shape, so state mixed up between them shows.
SHAPES = [(3, 4), (5,), (3, 4), (2, 3, 2)]


def _plain(x):
    return x.detach().as_subclass(torch.Tensor).clone()


def _state_as_data(state):
    out = {}
    for key, value in dict(state).items():
        if isinstance(value, torch.Tensor):
            out[str(key)] = _plain(value)
        elif isinstance(value, (bool, int, float, str)) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = repr(type(value))
    return out


def make_problem(seed, device="cpu", dtype=torch.float64):
    """Parameters, targets and weights of the loss, all drawn from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(*s, generator=g, dtype=dtype).to(device).requires_grad_() for s in SHAPES]
    targets = [torch.randn(*s, generator=g, dtype=dtype).to(device) for s in SHAPES]
    weights = [(0.5 + torch.rand(*s, generator=g, dtype=dtype)).to(device) for s in SHAPES]
    frozen = torch.randn(4, 2, generator=g, dtype=dtype).to(device).requires_grad_()
    return params, targets, weights, frozen


def loss_fn(params, targets, weights):
    """A fixed smooth loss: weighted squares plus a little cosine, so gradients keep changing."""
    total = 0
    for p, t, w in zip(params, targets, weights):
        total = total + (w * (p - t) ** 2).sum() + 0.3 * torch.cos(2 * p).sum()
    return total


def _make_cbs(impl, cbs):
    """``cbs`` is a list of stepper names, or ``[name, {keyword: value}]`` for a partial."""
    out = []
    for cb in cbs:
        if isinstance(cb, str):
            out.append(getattr(impl, cb))
        else:
            name, kwargs = cb
            out.append(functools.partial(getattr(impl, name), **kwargs))
    return out


def trajectory(impl, *, seed, factory, kwargs, steps=20, device="cpu", cbs=None):
    """``steps`` optimizer steps on the fixed problem; ``factory`` is "SGD", "RMSProp", "Adagrad", "Adam"
    or "Optimizer" (then ``cbs`` lists the steppers and ``kwargs`` the hyper-parameters)."""
    params, targets, weights, frozen = make_problem(seed, device)
    everything = params + [frozen]
    if factory == "Optimizer":
        opt = impl.Optimizer(everything, _make_cbs(impl, cbs), **kwargs)
    else:
        opt = getattr(impl, factory)(everything, **kwargs)
    history, losses = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(params, targets, weights)
        loss.backward()
        losses.append(float(loss.detach()))
        opt.step()
        history.append([_plain(p) for p in everything])
    state = [_state_as_data(opt.state.get(p, {})) for p in everything]
    return {"params": history, "state": state, "losses": losses}


def zero_grad_effect(impl, *, seed, device="cpu", lr=0.1, wd=0.1):
    """``backward()`` twice, ``zero_grad()``, ``backward()`` once more, then ``step()`` of ``SGD(lr, wd)``.

    Returns every parameter after the step (the frozen one last). With a working ``zero_grad`` the
    step uses the last gradient only; a parameter that never had a gradient must be skipped (no
    weight decay for it either).
    """
    params, targets, weights, frozen = make_problem(seed, device)
    opt = impl.SGD(params + [frozen], lr=lr, wd=wd)
    for _ in range(2):
        loss_fn(params, targets, weights).backward()
    opt.zero_grad()
    loss_fn(params, targets, weights).backward()
    opt.step()
    return {"params": [_plain(p) for p in params + [frozen]]}


def run_stepper(impl, name, p, grad, kwargs, *, seed=0):
    """Call stepper ``name`` once: ``cb(p, **kwargs)`` with ``p.grad = grad``.

    Tensors in ``kwargs`` (a ``grad_avg`` from an earlier step) are passed in as they are.
    """
    p = p.clone().requires_grad_()
    p.grad = grad.clone()
    kwargs = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    out = getattr(impl, name)(p, **kwargs)
    returned = _state_as_data(out) if isinstance(out, dict) else None
    return {"p": _plain(p), "grad": _plain(p.grad), "returned": returned}
