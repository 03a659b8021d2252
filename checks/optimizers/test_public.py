"""Public checks for `optimizers`: run them with `grade check optimizers`.

They compare a few steppers and short runs of SGD, Nesterov, Adagrad and Adam with the formulas
written out here.
The hidden checks compare 20-step runs of every optimizer with fastai's, step by step.
"""

from pathlib import Path

import pytest
import torch

from grader.scenarios import fresh_seed, load_scenario_file
from grader.testing import assert_tensor_close, fail

scenarios = load_scenario_file(Path(__file__).with_name("scenarios.py"))


def _data(result, key):
    if type(result) is not dict or key not in result:
        fail("The scenario did not return the expected data; do not change checks/optimizers/scenarios.py.")
    return result[key]


@pytest.mark.points(1)
def test_sgd_and_momentum_steps(student, device):
    """sgd_step: p - lr*grad; momentum_step: p - lr*grad_avg."""
    g = torch.Generator().manual_seed(1)
    p, grad, avg = (torch.randn(2, 3, generator=g).to(device) for _ in range(3))
    got = student.scenario("run_stepper", "sgd_step", p, grad, dict(lr=0.1))
    assert_tensor_close(_data(got, "p"), p - 0.1 * grad, what="p after sgd_step(p, lr=0.1)")
    got = student.scenario("run_stepper", "momentum_step", p, grad, dict(lr=0.1, grad_avg=avg))
    assert_tensor_close(_data(got, "p"), p - 0.1 * avg, what="p after momentum_step(p, lr=0.1, grad_avg=...)")


@pytest.mark.points(1)
def test_averages_start_at_zero(student, device):
    """First call: average_grad returns {'grad_avg': grad}, average_sqr_grad {'sqr_avg': 0.01*grad**2}."""
    g = torch.Generator().manual_seed(2)
    p, grad = (torch.randn(4, 2, generator=g).to(device) for _ in range(2))
    got = _data(student.scenario("run_stepper", "average_grad", p, grad, dict(mom=0.9)), "returned")
    if type(got) is not dict or "grad_avg" not in got:
        fail("average_grad(p, mom=0.9) must return a dict {'grad_avg': ...}.")
    assert_tensor_close(got["grad_avg"], grad, what="average_grad(p, mom=0.9)['grad_avg'] (first call)")
    got = _data(student.scenario("run_stepper", "average_sqr_grad", p, grad, dict(sqr_mom=0.99)), "returned")
    if type(got) is not dict or "sqr_avg" not in got:
        fail("average_sqr_grad(p, sqr_mom=0.99) must return a dict {'sqr_avg': ...}.")
    assert_tensor_close(got["sqr_avg"], 0.01 * grad**2, what="average_sqr_grad(p, sqr_mom=0.99)['sqr_avg'] (first call)")


@pytest.mark.points(1)
def test_nesterov_and_adagrad_steppers(student, device):
    """nesterov_step: p - lr*(grad + mom*grad_avg); average_sqr_sum, adagrad_step: p - lr*grad/(sqrt(sum_sqr) + eps)."""
    p = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], device=device)
    grad = torch.tensor([[0.5, 1.0, -2.0], [4.0, -0.25, 1.5]], device=device)
    avg = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.5, -0.5]], device=device)
    got = student.scenario("run_stepper", "nesterov_step", p, grad, dict(lr=0.1, mom=0.9, grad_avg=avg))
    assert_tensor_close(_data(got, "p"), p - 0.1 * (grad + 0.9 * avg),
                        what="p after nesterov_step(p, lr=0.1, mom=0.9, grad_avg=...)")
    total = torch.tensor([[1.0, 4.0, 0.25], [9.0, 2.0, 0.5]], device=device)
    got = _data(student.scenario("run_stepper", "average_sqr_sum", p, grad, dict(sum_sqr=total)), "returned")
    if type(got) is not dict or "sum_sqr" not in got:
        fail("average_sqr_sum(p, sum_sqr=...) must return a dict {'sum_sqr': ...}.")
    assert_tensor_close(got["sum_sqr"], total + grad**2, what="average_sqr_sum(p, sum_sqr=...)['sum_sqr']")
    got = student.scenario("run_stepper", "adagrad_step", p, grad, dict(lr=0.1, eps=0.01, sum_sqr=total))
    assert_tensor_close(_data(got, "p"), p - 0.1 * grad / (total.sqrt() + 0.01),
                        what="p after adagrad_step(p, lr=0.1, eps=0.01, sum_sqr=...)")


def _by_hand(data_seed, update, steps):
    """Run the scenario's problem with an update written out here; returns params after each step."""
    params, targets, weights, frozen = scenarios.make_problem(data_seed)
    state = [dict() for _ in params]
    history = []
    for step in range(1, steps + 1):
        for p in params:
            p.grad = None
        scenarios.loss_fn(params, targets, weights).backward()
        with torch.no_grad():
            for p, s in zip(params, state):
                update(p, p.grad, s, step)
        history.append([p.detach().clone() for p in params] + [frozen.detach().clone()])
    return history


def _compare(got, want, what):
    steps = _data(got, "params")
    if type(steps) is not list or len(steps) != len(want):
        fail(f"{what}: the scenario did not return one list of parameters per step.")
    for s, (row, want_row) in enumerate(zip(steps, want)):
        if type(row) is not list or len(row) != len(want_row):
            fail(f"{what}: the scenario did not return every parameter after step {s + 1}.")
        for k, (p, q) in enumerate(zip(row, want_row)):
            assert_tensor_close(p, q, what=f"{what}: parameter {k} after step {s + 1}", rtol=1e-6,
                                atol=1e-6 * max(1.0, float(q.abs().max())))


@pytest.mark.points(1)
def test_sgd_momentum_three_steps(student):
    """SGD(params, lr=0.05, mom=0.9): grad_avg = 0.9*grad_avg + grad; p -= lr*grad_avg (3 steps)."""
    seed = fresh_seed()

    def update(p, grad, s, step):
        s["avg"] = 0.9 * s.get("avg", torch.zeros_like(grad)) + grad
        p -= 0.05 * s["avg"]

    got = student.scenario("trajectory", seed=seed, factory="SGD", kwargs=dict(lr=0.05, mom=0.9),
                           steps=3)
    _compare(got, _by_hand(seed, update, 3), "SGD(params, lr=0.05, mom=0.9)")


@pytest.mark.points(1)
def test_adam_two_steps(student):
    """Adam(params, lr=0.01, wd=0): dampened averages, bias correction, eps outside the sqrt (2 steps)."""
    seed = fresh_seed()

    def update(p, grad, s, step):
        s["m"] = 0.9 * s.get("m", torch.zeros_like(grad)) + 0.1 * grad
        s["v"] = 0.99 * s.get("v", torch.zeros_like(grad)) + 0.01 * grad**2
        m_hat, v_hat = s["m"] / (1 - 0.9**step), s["v"] / (1 - 0.99**step)
        p -= 0.01 * m_hat / (v_hat.sqrt() + 1e-5)

    got = student.scenario("trajectory", seed=seed, factory="Adam", kwargs=dict(lr=0.01, wd=0.0),
                           steps=2)
    _compare(got, _by_hand(seed, update, 2), "Adam(params, lr=0.01, wd=0.0)")


@pytest.mark.points(1)
def test_nesterov_and_adagrad_three_steps(student):
    """SGD(lr=0.05, mom=0.9, nesterov=True) and Adagrad(lr=0.1), 3 steps each, written out by hand."""
    seed = fresh_seed()

    def nesterov(p, grad, s, step):
        s["avg"] = 0.9 * s.get("avg", torch.zeros_like(grad)) + grad
        p -= 0.05 * (grad + 0.9 * s["avg"])

    got = student.scenario("trajectory", seed=seed, factory="SGD", kwargs=dict(lr=0.05, mom=0.9, nesterov=True),
                           steps=3)
    _compare(got, _by_hand(seed, nesterov, 3), "SGD(params, lr=0.05, mom=0.9, nesterov=True)")

    def adagrad(p, grad, s, step):
        s["sum"] = s.get("sum", torch.zeros_like(grad)) + grad**2
        p -= 0.1 * grad / (s["sum"].sqrt() + 1e-10)

    got = student.scenario("trajectory", seed=seed, factory="Adagrad", kwargs=dict(lr=0.1), steps=3)
    _compare(got, _by_hand(seed, adagrad, 3), "Adagrad(params, lr=0.1)")
