"""Trusted helpers for `optimizers`: comparing runs with fastai's, and the runs of known mistakes.

Only the grader's process imports this. The expected runs come from ``reference.scenario(...)``
(fastai's optimizer, see ``implementation.py``); the mistakes below are fastai's steppers with one
thing changed, run through the same public scenarios, so a hint names what a wrong run matches.
"""

from __future__ import annotations

import functools
import math
import types
import typing as t
from pathlib import Path

import torch

from grader.scenarios import load_scenario_file
from grader.testing import CheckFailed, assert_tensor_close, fail

from . import implementation as fa

#: Trajectories are float64, so 1e-6 is far above rounding (fastai and a correct solution agree to
#: about 1e-15) and far below any real mistake; it is the tolerance EXERCISES.md sets for them.
TRAJ_TOL = 1e-6
#: Nesterov and Adagrad are compared with torch.optim's own runs at the course's float64 tolerance.
TORCH_TOL = 1e-9

_SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "optimizers" / "scenarios.py"


@functools.cache
def scenarios() -> types.ModuleType:
    """The public scenarios, loaded here under a private name (for runs of known mistakes)."""
    return load_scenario_file(_SCENARIOS)


# -- known mistakes, built from fastai's steppers --------------------------------------------------
def _adam_no_debias(p, lr, mom, step, sqr_mom, grad_avg, sqr_avg, eps, **kwargs):  # type: ignore[no-untyped-def]
    p.data.addcdiv_(grad_avg, sqr_avg.sqrt() + eps, value=-lr)


def _adam_eps_inside(p, lr, mom, step, sqr_mom, grad_avg, sqr_avg, eps, **kwargs):  # type: ignore[no-untyped-def]
    debias1 = fa.debias(mom, 1 - mom, step)
    debias2 = fa.debias(sqr_mom, 1 - sqr_mom, step)
    p.data.addcdiv_(grad_avg, (sqr_avg / debias2 + eps).sqrt(), value=-lr / debias1)


def _adagrad_no_sqrt(p, lr, sum_sqr, eps, **kwargs):  # type: ignore[no-untyped-def]
    p.data.addcdiv_(p.grad.data, sum_sqr + eps, value=-lr)


def _adagrad_eps_inside(p, lr, sum_sqr, eps, **kwargs):  # type: ignore[no-untyped-def]
    p.data.addcdiv_(p.grad.data, (sum_sqr + eps).sqrt(), value=-lr)


def _sqr_avg_as_sum(p, sqr_mom=0.99, sqr_avg=None, sum_sqr=None, **kwargs):  # type: ignore[no-untyped-def]
    """RMSProp's dampened average (sqr_mom=0.99) kept under Adagrad's name ``sum_sqr``."""
    return {"sum_sqr": fa.average_sqr_grad(p, sqr_mom, True, sum_sqr)["sqr_avg"]}


class _SharedState(fa.Optimizer):  # type: ignore[misc, valid-type]
    """fastai's Optimizer, but one state dict for all parameters."""

    def step(self, closure=None):  # type: ignore[no-untyped-def]
        shared: dict[str, t.Any] = {}
        for p, _pg, _state, hyper in self.all_params(with_grad=True):
            for cb in self.cbs:
                new = cb(p, **{**shared, **hyper})
                if isinstance(new, dict):
                    shared.update(new)
            self.state[p] = shared


class _NoZeroGrad(fa.Optimizer):  # type: ignore[misc, valid-type]
    def zero_grad(self):  # type: ignore[no-untyped-def]
        pass


class _ZeroGradForAll(fa.Optimizer):  # type: ignore[misc, valid-type]
    """zero_grad gives every parameter a zero gradient, also one that had none."""

    def zero_grad(self):  # type: ignore[no-untyped-def]
        for p, *_ in self.all_params(with_grad=False):
            p.grad = torch.zeros_like(p)


def _variant(optimizer: t.Any = None, wd_last: bool = False, **steppers: t.Any) -> types.SimpleNamespace:
    """The exercise's API made of fastai's steppers, some replaced (``steppers``)."""
    ns = types.SimpleNamespace(**{n: getattr(fa, n) for n in (
        "sgd_step", "weight_decay", "l2_reg", "average_grad", "average_sqr_grad", "momentum_step",
        "rms_prop_step", "step_stat", "debias", "adam_step", "nesterov_step", "average_sqr_sum", "adagrad_step")})
    ns.__dict__.update(steppers)
    ns.Optimizer = optimizer or fa.Optimizer

    def with_wd(decouple_wd: bool, cbs: list[t.Any]) -> list[t.Any]:
        wd = ns.weight_decay if decouple_wd else ns.l2_reg
        return cbs + [wd] if wd_last else [wd] + cbs

    def SGD(params, lr, mom=0.0, wd=0.0, decouple_wd=True, nesterov=False):  # type: ignore[no-untyped-def]
        last = ns.sgd_step if mom == 0 else ns.nesterov_step if nesterov else ns.momentum_step
        cbs = ([ns.average_grad] if mom != 0 else []) + [last]
        return ns.Optimizer(params, with_wd(decouple_wd, cbs), lr=lr, mom=mom, wd=wd)

    def Adagrad(params, lr, eps=1e-10, wd=0.0, decouple_wd=True):  # type: ignore[no-untyped-def]
        cbs = [ns.average_sqr_sum, ns.adagrad_step]
        return ns.Optimizer(params, with_wd(decouple_wd, cbs), lr=lr, eps=eps, wd=wd)

    def RMSProp(params, lr, sqr_mom=0.99, mom=0.0, wd=0.0, decouple_wd=True, eps=1e-8):  # type: ignore[no-untyped-def]
        cbs = ([ns.average_sqr_grad] if mom == 0 else [ns.average_grad, ns.average_sqr_grad]) + [ns.rms_prop_step]
        return ns.Optimizer(params, with_wd(decouple_wd, cbs), lr=lr, mom=mom, sqr_mom=sqr_mom, wd=wd, eps=eps)

    def Adam(params, lr, mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.01, decouple_wd=True):  # type: ignore[no-untyped-def]
        cbs = [functools.partial(ns.average_grad, dampening=True), ns.average_sqr_grad, ns.step_stat, ns.adam_step]
        return ns.Optimizer(params, with_wd(decouple_wd, cbs), lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd)

    ns.SGD, ns.RMSProp, ns.Adam, ns.Adagrad = SGD, RMSProp, Adam, Adagrad
    return ns


def _mistakes(factory: str, kwargs: dict[str, t.Any]) -> dict[str, tuple[types.SimpleNamespace, dict[str, t.Any]]]:
    """Known mistakes that change this run: description -> (API, keyword arguments)."""
    out: dict[str, tuple[types.SimpleNamespace, dict[str, t.Any]]] = {}
    wd = kwargs.get("wd", 0.01 if factory == "Adam" else 0.0)
    mom = kwargs.get("mom", 0.9 if factory == "Adam" else 0.0)
    if wd:
        flipped = {**kwargs, "decouple_wd": not kwargs.get("decouple_wd", True)}
        out["L2 regularisation and decoupled weight decay are mixed up (decouple_wd=True: p *= 1 - lr*wd; "
            "False: grad += wd*p)"] = (_variant(), flipped)
        out["the weight decay is applied after the update (it comes first)"] = (_variant(wd_last=True), kwargs)
    nesterov = factory == "SGD" and mom and kwargs.get("nesterov", False)
    if nesterov:
        out["the update uses grad_avg alone, as plain momentum does (Nesterov's is p -= lr*(grad + mom*grad_avg))"] = (
            _variant(nesterov_step=fa.momentum_step), kwargs)
        out["the gradient is left out of the update (Nesterov's is p -= lr*(grad + mom*grad_avg))"] = (
            _variant(nesterov_step=lambda p, lr, mom, grad_avg, **kw: p.data.add_(grad_avg, alpha=-lr * mom)),
            kwargs)
    if factory == "Adagrad":
        out["the square root of the sum of squared gradients is missing (p -= lr*grad / (sqrt(sum_sqr) + eps))"] = (
            _variant(adagrad_step=_adagrad_no_sqrt), kwargs)
        out["eps is added inside the square root (torch.optim's Adagrad adds it after: sqrt(sum_sqr) + eps)"] = (
            _variant(adagrad_step=_adagrad_eps_inside), kwargs)
        out["the squared gradients are averaged with decay, as in RMSProp (Adagrad sums them: "
            "sum_sqr = sum_sqr + grad**2)"] = (_variant(average_sqr_sum=_sqr_avg_as_sum), kwargs)
    if nesterov:
        out["the momentum is dampened (Nesterov's, as torch.optim's nesterov=True, is not: "
            "grad_avg = mom*grad_avg + grad)"] = (
            _variant(average_grad=functools.partial(fa.average_grad, dampening=True)), kwargs)
    elif mom and factory in ("SGD", "RMSProp"):
        out["the momentum is dampened (fastai's SGD/RMSProp momentum is not: grad_avg = mom*grad_avg + grad)"] = (
            _variant(average_grad=functools.partial(fa.average_grad, dampening=True)), kwargs)
    if factory == "Adam":
        out["Adam's momentum is not dampened (Adam uses grad_avg = mom*grad_avg + (1-mom)*grad)"] = (
            _variant(average_grad=lambda p, mom, dampening=False, grad_avg=None, **kw:
                     fa.average_grad(p, mom, False, grad_avg)), kwargs)
        out["Adam's bias correction is missing (divide by debias(...) with step counted from 1)"] = (
            _variant(adam_step=_adam_no_debias), kwargs)
        out["eps is added inside the square root (fastai adds it after: sqrt(sqr_avg/debias2) + eps)"] = (
            _variant(adam_step=_adam_eps_inside), kwargs)
    if factory in ("RMSProp", "Adam"):
        out["the squared-gradient average is not dampened (sqr_avg = sqr_mom*sqr_avg + (1-sqr_mom)*grad**2)"] = (
            _variant(average_sqr_grad=functools.partial(fa.average_sqr_grad, dampening=False)), kwargs)
    if mom or factory in ("RMSProp", "Adam", "Adagrad"):
        out["all parameters share one state dict (each parameter needs its own)"] = (
            _variant(optimizer=_SharedState), kwargs)
    out["the gradients are not zeroed by zero_grad (they accumulate)"] = (_variant(optimizer=_NoZeroGrad), kwargs)
    return out


def trajectory_hints(factory: str, kwargs: dict[str, t.Any], *, seed: int, device: str,
                     cbs: t.Any = None) -> dict[str, t.Callable[[int], list[list[torch.Tensor]]]]:
    """description -> f(n): the parameters after each of the first n steps of that mistaken run."""
    if factory == "Optimizer":
        return {}
    hints: dict[str, t.Callable[[int], list[list[torch.Tensor]]]] = {}
    for description, (api, kw) in _mistakes(factory, kwargs).items():
        def run(n: int, api: t.Any = api, kw: dict[str, t.Any] = kw) -> list[list[torch.Tensor]]:
            try:
                return scenarios().trajectory(api, seed=seed, factory=factory, kwargs=kw, device=device,
                                              steps=n)["params"]
            except Exception:  # a mistake that crashes fastai's code too (e.g. a division by zero)
                return []

        hints[description] = run
    return hints


def zero_grad_hints(*, seed: int, device: str) -> dict[str, t.Callable[[], list[torch.Tensor]]]:
    """description -> the parameters the ``zero_grad_effect`` scenario gives with that mistake."""
    mistakes = {"the gradients are not zeroed by zero_grad (they accumulate)": _NoZeroGrad,
                "zero_grad() gave a gradient to a parameter that had none (step() must skip it)": _ZeroGradForAll}
    return {k: (lambda o=o: scenarios().zero_grad_effect(_variant(optimizer=o), seed=seed, device=device)["params"])
            for k, o in mistakes.items()}


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    a64, b64 = a.detach().cpu().double(), b.detach().cpu().double()
    return a64.shape == b64.shape and bool(((a64 - b64).abs() <= TRAJ_TOL * (1 + b64.abs())).all())


def matching_mistake(steps: list[list[t.Any]], hints: dict[str, t.Callable[[int], list[list[torch.Tensor]]]],
                     first_bad: int) -> str:
    """The known mistake whose run the student's run follows (within 1e-6) up to two steps past its
    first wrong step (checking all 20 steps of every candidate would cost seconds), if any."""
    steps = steps[:first_bad + 3]
    for description, run in hints.items():
        other = run(len(steps))
        if len(other) == len(steps) and all(
                type(p) is torch.Tensor and _close(p, q) for row, other_row in zip(steps, other)
                for p, q in zip(row, other_row)):
            return f"\nIt looks like {description}."
    return ""


# -- comparing a run with fastai's -----------------------------------------------------------------
def _field(result: t.Any, key: str, kind: type, what: str) -> t.Any:
    if type(result) is not dict or key not in result or not isinstance(result[key], kind):
        fail(f"{what}: the scenario did not return the expected data ({key!r} is missing or malformed); "
             "do not change checks/optimizers/scenarios.py.")
    return result[key]


def compare_trajectory(got: t.Any, want: dict[str, t.Any], *, what: str, device: t.Any,
                       hints: dict[str, t.Callable[[int], list[list[torch.Tensor]]]] | None = None,
                       check_state: bool = False, tol: float = TRAJ_TOL) -> None:
    """Every parameter after every step within ``tol`` of the reference run's (float64: 1e-6 against
    fastai's, 1e-9 against torch.optim's); optionally the final state."""
    __tracebackhide__ = True
    steps = _field(got, "params", list, what)
    want_steps = want["params"]
    if len(steps) != len(want_steps) or any(type(s) is not list or len(s) != len(want_steps[0]) for s in steps):
        fail(f"{what}: the scenario did not return one list of parameters per step; "
             "do not change checks/optimizers/scenarios.py.")
    shapes = [tuple(p.shape) for p in want_steps[0]]
    for s, (row, want_row) in enumerate(zip(steps, want_steps)):
        for k, (p, q) in enumerate(zip(row, want_row)):
            frozen = " (it has no gradient, so step() must leave it alone)" if k == len(row) - 1 else ""
            peak = float(q.abs().max())
            try:
                assert_tensor_close(
                    p, q, what=f"{what}: parameter {k} of shape {shapes[k]}{frozen} after step {s + 1}",
                    dtype=torch.float64, device=device, rtol=tol, atol=tol * max(1.0, peak))
            except CheckFailed as exc:
                fail(str(exc) + matching_mistake(steps, hints or {}, s))
    if check_state:
        compare_state(_field(got, "state", list, what), want["state"], what=what, device=device)


def compare_state(got: list[t.Any], want: list[dict[str, t.Any]], *, what: str, device: t.Any) -> None:
    """Each parameter's final state: the statistics fastai keeps, with equal values."""
    __tracebackhide__ = True
    if len(got) != len(want):
        fail(f"{what}: the scenario did not return one state per parameter; do not change the scenarios.")
    for k, (mine, theirs) in enumerate(zip(got, want)):
        where = f"{what}: optimizer.state of parameter {k}"
        if type(mine) is not dict:
            fail(f"{where} is not a dict.")
        if not theirs:
            leftovers = sorted(key for key, v in mine.items() if isinstance(v, torch.Tensor))
            if leftovers:
                fail(f"{where} holds {leftovers}, but this parameter never had a gradient: step() must skip "
                     "it and keep no state for it.")
            continue
        missing = sorted(set(theirs) - set(mine))
        if missing:
            fail(f"{where} lacks the entries {missing} (it has {sorted(mine)}); keep what the steppers return.")
        for key, value in theirs.items():
            if isinstance(value, torch.Tensor):
                peak = float(value.abs().max())
                assert_tensor_close(mine[key], value, what=f"{where}[{key!r}]", dtype=torch.float64, device=device,
                                    rtol=TRAJ_TOL, atol=TRAJ_TOL * max(1.0, peak))
            elif type(mine[key]) is not type(value) or mine[key] != value:
                fail(f"{where}[{key!r}] is {mine[key]!r}, which is wrong (after 20 steps).")


def debias_ref(mom: float, damp: float, step: int) -> float:
    return damp * (1 - mom**step) / (1 - mom)


def isclose(a: t.Any, b: float) -> bool:
    return type(a) in (int, float) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
