"""Hidden checks for `optimizers`: the student's optimizers against fastai's, step by step.

Trajectories: 20 steps on a fixed smooth loss over four float64 parameter tensors (two of the same
shape, so shared state shows) plus one that never gets a gradient, drawn from a fresh seed per
run (a canned trajectory cannot match); every parameter after every step within 1e-6 of
``fastai.optimizer`` (float64 makes 1e-6 meaningful: a correct solution agrees to ~1e-15).
Nesterov momentum and Adagrad (not in fastai) are compared with torch.optim.SGD(nesterov=True) and
torch.optim.Adagrad the same way, within 1e-9 (float64).
Steppers: each one alone, fastai's signature, float64 (1e-9) and float32 (1e-4).
"""

import random

import pytest
import torch

from grader.sandbox import WorkerError
from grader.scenarios import fresh_seed
from grader.testing import CheckFailed, assert_from_scratch, assert_tensor_close, fail
from reference.optimizers.reference import (TORCH_TOL, compare_state, compare_trajectory, debias_ref, isclose,
                                            trajectory_hints, zero_grad_hints)

FORBIDDEN = ["torch.optim", "torch.optim.SGD", "torch.optim.Adam", "torch.optim.AdamW", "torch.optim.RMSprop",
             "torch.optim.Adagrad", "torch.optim.Optimizer", "torch.optim.optimizer.Optimizer"]


def run_both(student, reference, device, factory, kwargs, cbs=None, steps=20):
    seed = fresh_seed()
    args = dict(factory=factory, kwargs=kwargs, device=str(device), steps=steps)
    if cbs is not None:
        args["cbs"] = cbs
    got = student.scenario("trajectory", seed=seed, **args)
    want = reference.scenario("trajectory", seed=seed, **args)
    return seed, got, want


def check_run(student, reference, device, factory, kwargs, cbs=None, check_state=False, tol=None):
    __tracebackhide__ = True
    seed, got, want = run_both(student, reference, device, factory, kwargs, cbs)
    shown = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    what = f"{factory}(params, {shown})" if factory != "Optimizer" else f"Optimizer(params, {cbs}, {shown})"
    hints = trajectory_hints(factory, kwargs, seed=seed, device=str(device), cbs=cbs)
    compare_trajectory(got, want, what=what, device=device, hints=hints, check_state=check_state,
                       **({} if tol is None else {"tol": tol}))


# -- whole optimizers ----------------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("kwargs", [dict(lr=0.05), dict(lr=0.03, mom=0.9)], ids=["plain", "momentum"])
@pytest.mark.cpu_budget(10)
def test_sgd(student, reference, device, kwargs):
    """SGD, without and with (undampened) momentum: 20 steps equal fastai's."""
    check_run(student, reference, device, "SGD", kwargs)


@pytest.mark.points(2)
@pytest.mark.parametrize("factory, kwargs", [
    ("SGD", dict(lr=0.03, mom=0.8, wd=0.2)),
    ("SGD", dict(lr=0.03, mom=0.8, wd=0.2, decouple_wd=False)),
    ("RMSProp", dict(lr=0.01, wd=0.3)),
    ("Adam", dict(lr=0.02, wd=0.3, decouple_wd=False)),
], ids=["sgd-decoupled", "sgd-l2", "rmsprop-decoupled", "adam-l2"])
@pytest.mark.cpu_budget(10)
def test_weight_decay(student, reference, device, factory, kwargs):
    """Decoupled weight decay (p *= 1 - lr*wd) and L2 regularisation (grad += wd*p)."""
    check_run(student, reference, device, factory, kwargs)


@pytest.mark.points(2)
@pytest.mark.parametrize("kwargs", [dict(lr=0.01), dict(lr=0.005, mom=0.8, sqr_mom=0.9)],
                         ids=["plain", "momentum"])
@pytest.mark.cpu_budget(10)
def test_rmsprop(student, reference, device, kwargs):
    """RMSProp, without and with momentum: 20 steps equal fastai's."""
    check_run(student, reference, device, "RMSProp", kwargs)


@pytest.mark.points(2)
@pytest.mark.parametrize("kwargs", [
    dict(lr=0.02, mom=0.9, nesterov=True),
    dict(lr=0.03, mom=0.7, wd=0.2, nesterov=True),
    dict(lr=0.03, mom=0.8, wd=0.2, decouple_wd=False, nesterov=True),
], ids=["plain", "decoupled-wd", "l2"])
@pytest.mark.cpu_budget(10)
def test_nesterov(student, reference, device, kwargs):
    """SGD with Nesterov momentum: 20 steps equal torch.optim.SGD(nesterov=True, dampening=0)'s."""
    check_run(student, reference, device, "SGD", kwargs, tol=TORCH_TOL)


@pytest.mark.points(2)
@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1),
    dict(lr=0.05, eps=0.1, wd=0.3),
    dict(lr=0.08, eps=0.05, wd=0.2, decouple_wd=False),
], ids=["defaults", "large-eps-decoupled-wd", "l2"])
@pytest.mark.cpu_budget(10)
def test_adagrad(student, reference, device, kwargs):
    """Adagrad (a running sum of squared gradients, eps after the sqrt): 20 steps equal torch.optim.Adagrad's."""
    check_run(student, reference, device, "Adagrad", kwargs, tol=TORCH_TOL)


@pytest.mark.points(3)
@pytest.mark.cpu_budget(10)
def test_adam_defaults(student, reference, device):
    """Adam with fastai's defaults (mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.01, decoupled)."""
    check_run(student, reference, device, "Adam", dict(lr=0.05))


@pytest.mark.points(2)
@pytest.mark.cpu_budget(10)
def test_adam_hyperparameters(student, reference, device):
    """Adam with other hyper-parameters (a large eps shows where it is added)."""
    check_run(student, reference, device, "Adam", dict(lr=0.05, mom=0.8, sqr_mom=0.9, eps=0.1, wd=0.0))


@pytest.mark.points(2)
@pytest.mark.cpu_budget(10)
def test_state_per_parameter(student, reference, device):
    """Each parameter keeps its own state (grad_avg, sqr_avg, step); none for one without gradient."""
    _, got, want = run_both(student, reference, device, "Adam", dict(lr=0.03, wd=0.0))
    if type(got) is not dict or type(got.get("state")) is not list:
        fail("Adam: the scenario did not return the optimizer's state; do not change the scenarios.")
    compare_state(got["state"], want["state"], what="Adam(params, lr=0.03, wd=0.0) after 20 steps", device=device)


@pytest.mark.points(2)
@pytest.mark.cpu_budget(10)
def test_generic_optimizer(student, reference, device):
    """Optimizer(params, cbs, **hypers) takes missing hyper-parameters from the steppers' defaults.

    Judged on trajectories: every stepper's default (weight_decay's and l2_reg's wd, average_grad's
    mom, average_sqr_grad's sqr_mom, rms_prop_step's eps) is left out of the hyper-parameters in
    one of the runs, so only the right defaults give fastai's numbers.
    """
    check_run(student, reference, device, "Optimizer", dict(lr=0.02),
              cbs=["weight_decay", "average_grad", "momentum_step"])
    check_run(student, reference, device, "Optimizer", dict(lr=0.01, wd=0.1, mom=0.7),
              cbs=["l2_reg", ["average_grad", {"dampening": True}], "average_sqr_grad", "rms_prop_step"])
    check_run(student, reference, device, "Optimizer", dict(lr=0.05), cbs=["l2_reg", "sgd_step"])


@pytest.mark.points(1)
def test_zero_grad(student, reference, device):
    """zero_grad() sets every gradient to zero (or None) and gives none to a parameter that had none.

    Judged on values: gradients accumulated twice, zero_grad(), one more backward pass and one SGD
    step with weight decay; the parameters must equal fastai's on the same fresh problem (gradients
    left over, or a gradient given to the parameter that had none, change them).
    """
    seed = fresh_seed()
    got = student.scenario("zero_grad_effect", seed=seed, device=str(device))
    want = reference.scenario("zero_grad_effect", seed=seed, device=str(device))
    params = got.get("params") if type(got) is dict else None
    if type(params) is not list or len(params) != len(want["params"]):
        fail("zero_grad: the scenario did not return the parameters; do not change the scenarios.")
    what = ("SGD(params, lr=0.1, wd=0.1) after backward() twice, zero_grad(), backward() once more and step(): "
            "parameter {k}")
    hints = zero_grad_hints(seed=seed, device=str(device))
    for k, (p, q) in enumerate(zip(params, want["params"])):
        frozen = " (it never had a gradient)" if k == len(params) - 1 else ""
        assert_tensor_close(p, q, what=what.format(k=k) + frozen, dtype=torch.float64, device=device,
                            rtol=1e-9, atol=1e-9 * max(1.0, float(q.abs().max())),
                            hints={d: (lambda f=f, k=k: f()[k]) for d, f in hints.items()})


# -- steppers one by one ---------------------------------------------------------------------------
def _stepper_cases():
    """(id, stepper, kwargs builder) -- kwargs get tensors shaped like p, made from a generator."""
    def pos(g, shape, dtype):
        return torch.rand(*shape, generator=g, dtype=dtype) * 2 + 0.1

    return [
        ("sgd_step", "sgd_step", lambda g, s, d: dict(lr=0.7)),
        ("weight_decay", "weight_decay", lambda g, s, d: dict(lr=0.5, wd=0.6)),
        ("weight_decay-off", "weight_decay", lambda g, s, d: dict(lr=0.5, wd=0.6, do_wd=False)),
        ("l2_reg", "l2_reg", lambda g, s, d: dict(lr=0.5, wd=0.7)),
        ("average_grad-first", "average_grad", lambda g, s, d: dict(mom=0.8)),
        ("average_grad", "average_grad", lambda g, s, d: dict(mom=0.8, grad_avg=torch.randn(*s, generator=g, dtype=d))),
        ("average_grad-dampened", "average_grad",
         lambda g, s, d: dict(mom=0.7, dampening=True, grad_avg=torch.randn(*s, generator=g, dtype=d))),
        ("average_sqr_grad-first", "average_sqr_grad", lambda g, s, d: dict(sqr_mom=0.9)),
        ("average_sqr_grad", "average_sqr_grad", lambda g, s, d: dict(sqr_mom=0.9, sqr_avg=pos(g, s, d))),
        ("average_sqr_grad-undampened", "average_sqr_grad",
         lambda g, s, d: dict(sqr_mom=0.6, dampening=False, sqr_avg=pos(g, s, d))),
        ("momentum_step", "momentum_step", lambda g, s, d: dict(lr=0.6, grad_avg=torch.randn(*s, generator=g, dtype=d) * 3)),
        ("rms_prop_step", "rms_prop_step", lambda g, s, d: dict(lr=0.5, eps=1e-2, sqr_avg=pos(g, s, d))),
        ("rms_prop_step-mom", "rms_prop_step",
         lambda g, s, d: dict(lr=0.5, eps=1e-2, sqr_avg=pos(g, s, d), grad_avg=torch.randn(*s, generator=g, dtype=d))),
        ("nesterov_step", "nesterov_step",
         lambda g, s, d: dict(lr=0.6, mom=0.8, grad_avg=torch.randn(*s, generator=g, dtype=d) * 3)),
        ("average_sqr_sum-first", "average_sqr_sum", lambda g, s, d: dict(lr=0.1, eps=1e-10)),
        ("average_sqr_sum", "average_sqr_sum", lambda g, s, d: dict(sum_sqr=pos(g, s, d) * 5)),
        ("adagrad_step", "adagrad_step", lambda g, s, d: dict(lr=0.5, eps=5e-2, sum_sqr=pos(g, s, d) * 0.1)),
        ("step_stat-first", "step_stat", lambda g, s, d: dict(lr=0.1)),
        ("step_stat", "step_stat", lambda g, s, d: dict(step=6)),
        ("adam_step-first", "adam_step",
         lambda g, s, d: dict(lr=0.4, mom=0.9, sqr_mom=0.99, eps=0.05, step=1,
                              grad_avg=torch.randn(*s, generator=g, dtype=d) * 0.1,
                              sqr_avg=pos(g, s, d) * 0.001)),
        ("adam_step", "adam_step",
         lambda g, s, d: dict(lr=0.3, mom=0.8, sqr_mom=0.95, eps=0.05, step=4,
                              grad_avg=torch.randn(*s, generator=g, dtype=d), sqr_avg=pos(g, s, d))),
    ]


CASES = _stepper_cases()


@pytest.mark.points(1)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_stepper(student, reference, device, case):
    """One stepper called alone as fastai calls it, cb(p, **state_and_hypers); float64 and float32."""
    check_stepper(student, reference, device, case, torch.float32)
    try:
        check_stepper(student, reference, device, case, torch.float64)
    except CheckFailed as exc:  # right in float32 but not in float64: precision lost on the way
        fail(f"{exc}\nIt looks like the computation runs in a lower precision than the parameter's (float64 "
             "here) and is cast back: no .float(), .half() or .bfloat16() on the way.")


def check_stepper(student, reference, device, case, dtype):
    __tracebackhide__ = True
    _, name, make = case
    g = torch.Generator().manual_seed(fresh_seed())
    shape = (3, 5)
    p = (torch.randn(*shape, generator=g, dtype=dtype) * 2).to(device)
    grad = (torch.randn(*shape, generator=g, dtype=dtype) * 3).to(device)
    kwargs = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in make(g, shape, dtype).items()}
    got = student.scenario("run_stepper", name, p, grad, kwargs)
    want = reference.scenario("run_stepper", name, p, grad, kwargs)
    shown = ", ".join(f"{k}=<tensor>" if isinstance(v, torch.Tensor) else f"{k}={v}" for k, v in kwargs.items())
    call = f"{name}(p, {shown}) [{str(dtype).replace('torch.', '')}]"
    if type(got) is not dict or not {"p", "grad", "returned"} <= set(got):
        fail(f"{call}: the scenario did not return the expected data; do not change the scenarios.")
    assert_tensor_close(got["p"], want["p"], what=f"p after {call}", dtype=dtype, device=device)
    assert_tensor_close(got["grad"], want["grad"], what=f"p.grad after {call}", dtype=dtype, device=device)
    if want["returned"] is not None:  # a statistic: the returned dict is the new state
        mine = got["returned"]
        if type(mine) is not dict or set(mine) != set(want["returned"]):
            fail(f"{call} must return a dict with the keys {sorted(want['returned'])}, but returned "
                 f"{'a dict with ' + str(sorted(mine)) if type(mine) is dict else 'no dict'}.")
        for key, value in want["returned"].items():
            if isinstance(value, torch.Tensor):
                assert_tensor_close(mine[key], value, what=f"{call}[{key!r}]", dtype=dtype, device=device)
            elif type(mine[key]) is not int or mine[key] != value:
                fail(f"{call} returned {key}={mine[key]!r}, which is wrong.")


@pytest.mark.points(1)
def test_debias(student):
    """debias(mom, damp, step) = damp * (1 - mom**step) / (1 - mom)."""
    rng = random.Random(fresh_seed())
    drawn = [(round(rng.uniform(0.5, 0.999), 4), round(rng.uniform(0.01, 1.0), 4), rng.randint(1, 30)) for _ in range(3)]
    for mom, damp, step in [(0.9, 0.1, 1), (0.9, 1.0, 3), (0.99, 0.01, 7), (0.5, 0.25, 2), *drawn]:
        value = student.debias(mom, damp, step)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = float(value)
        if not isclose(value, debias_ref(mom, damp, step)):
            fail(f"debias({mom}, {damp}, {step}) returned {value!r}, which is wrong.")


@pytest.mark.points(3)
@pytest.mark.cpu_budget(10)
def test_short_runs(student, reference, device):
    """Two steps each of SGD, RMSProp with momentum and Adam equal fastai's."""
    for factory, kwargs in [("SGD", dict(lr=0.05)), ("RMSProp", dict(lr=0.01, mom=0.5)), ("Adam", dict(lr=0.05))]:
        seed = fresh_seed()
        args = dict(factory=factory, kwargs=kwargs, device=str(device), steps=2)
        got = student.scenario("trajectory", seed=seed, **args)
        want = reference.scenario("trajectory", seed=seed, **args)
        shown = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        compare_trajectory(got, want, what=f"{factory}(params, {shown})", device=device,
                           hints=trajectory_hints(factory, kwargs, seed=seed, device=str(device)))


@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No torch.optim and no fastai: the optimizer is built from scratch (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking
    it voids all points of the exercise. The verdict comes from the source scan of every file of
    the submission; the aten ops and modules the worker records while the student's code runs are
    extra evidence only.
    """
    g = torch.Generator().manual_seed(fresh_seed())
    p, grad = torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(3, 4, generator=g, dtype=torch.float64)
    with student.recording_ops() as ops:
        for factory, kwargs in [("SGD", dict(lr=0.05)), ("RMSProp", dict(lr=0.01, mom=0.5)), ("Adam", dict(lr=0.05)),
                                ("SGD", dict(lr=0.05, mom=0.9, nesterov=True)), ("Adagrad", dict(lr=0.05))]:
            try:  # only what runs matters here; the values are judged by the other checks
                student.scenario("trajectory", seed=fresh_seed(), factory=factory, kwargs=kwargs,
                                 device=str(device), steps=2)
            except WorkerError:
                pass
        try:
            student.scenario("run_stepper", "adam_step", p.to(device), grad.to(device),
                             dict(lr=0.1, mom=0.9, sqr_mom=0.99, eps=1e-5, step=1, grad_avg=grad.to(device),
                                  sqr_avg=(grad * grad).to(device)))
        except WorkerError:
            pass
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_ops=r"_fused_(adam|sgd|adagrad)",
                        forbidden_modules=["fastai", "fasttransform", "torch.optim"],
                        modules_seen=student.imported_modules(), what="optimizers")
