"""Trusted helpers for `learner`: float64 references, known mistakes, scoring a trained model here.

Only the grader's process imports this.
"""

from __future__ import annotations

import functools
import importlib.util
import types
import typing as t
from pathlib import Path

import torch
import torch.nn.functional as F

from grader.testing import fail

from . import implementation as ref
from .implementation import _sgd_step

_SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "learner" / "scenarios.py"


@functools.cache
def scenarios() -> types.ModuleType:
    """The public scenarios, loaded here under a private name (data generators, mistaken runs)."""
    spec = importlib.util.spec_from_file_location("_grader_learner_scenarios_for_checks", _SCENARIOS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def f64(x: torch.Tensor) -> torch.Tensor:
    return x.detach().cpu().double()


def channel_dims(x: torch.Tensor) -> list[int]:
    return [0, *range(2, x.dim())]


def distinct(got: t.Any, truth: torch.Tensor, mistakes: dict[str, t.Callable[[], torch.Tensor]],
             precision: bool) -> dict[str, t.Callable[[], torch.Tensor | None]]:
    """The hints worth testing for the student's result ``got``.

    A mistake is kept only if its result really differs from ``truth`` (a naive log-softmax is
    right for small logits) and has inf/NaN exactly where ``got`` has (the matcher counts any
    finite value as close to inf). For float64 inputs a last hint names results that are right
    only to about float32 precision (the matcher accepts anything within 1e-4 of a candidate).
    """
    finite = torch.isfinite(got.detach().cpu()) if type(got) is torch.Tensor else None

    def keep(make: t.Callable[[], torch.Tensor]) -> t.Callable[[], torch.Tensor | None]:
        def candidate() -> torch.Tensor | None:
            value = make()
            if value.shape == truth.shape and bool(torch.isclose(value, truth, rtol=1e-3, atol=1e-3).all()):
                return None
            if finite is None or finite.shape != value.shape or not torch.equal(finite, torch.isfinite(value)):
                return None
            return value
        return candidate

    out = {d: keep(m) for d, m in mistakes.items()}
    if precision and finite is not None and bool(finite.all()):
        out["the computation runs in a lower precision than the input's (float64 here) and is cast back: no "
            ".float(), .half() or .bfloat16() on the way"] = lambda: truth
    return out


# -- loss ------------------------------------------------------------------------------------------
def log_softmax_mistakes(x: torch.Tensor) -> dict[str, t.Callable[[], torch.Tensor]]:
    x64 = f64(x)
    m = x64.max(-1, keepdim=True).values
    return {
        "log(softmax(x)) was computed directly: exp(x) overflows for large logits (use the logsumexp trick)":
            lambda: x64 - x64.exp().sum(-1, keepdim=True).log(),
        "the maximum is subtracted inside the exponential but not added back (logsumexp = m + log(sum(exp(x - m))))":
            lambda: x64 - (x64 - m).exp().sum(-1, keepdim=True).log(),
        "the softmax runs over the wrong axis (it belongs to the last axis, the classes)":
            lambda: F.log_softmax(x64, dim=0),
    }


def cross_entropy_mistakes(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, t.Callable[[], torch.Tensor]]:
    x64, tg = f64(logits), targets.cpu()
    n, c = x64.shape
    picked = lambda lsm: lsm[torch.arange(n), tg]  # noqa: E731
    return {
        "the softmax runs over the batch axis instead of the classes (axis 1)":
            lambda: -picked(F.log_softmax(x64, dim=0)).mean(),
        "log(softmax(x)) was computed directly: exp(x) overflows for large logits (use the logsumexp trick)":
            lambda: -picked(x64 - x64.exp().sum(-1, keepdim=True).log()).mean(),
        "the losses are summed instead of averaged over the batch": lambda: F.cross_entropy(x64, tg, reduction="sum"),
        "the mean runs over all N*C entries instead of the N items": lambda: F.cross_entropy(x64, tg) / c,
        "the sign is wrong (cross entropy is the *negative* log-likelihood)": lambda: -F.cross_entropy(x64, tg),
    }


# -- statistics ------------------------------------------------------------------------------------
def stats_mistakes(x: torch.Tensor, which: int) -> dict[str, t.Callable[[], torch.Tensor]]:
    """Known wrong means (``which=0``) or stds (``which=1``)."""
    x64, dims = f64(x), channel_dims(x)
    c = x.shape[1]
    out = {
        "one statistic over all elements instead of one per channel":
            lambda: (x64.mean() if which == 0 else x64.std()).expand(c),
        "the statistics are per pixel (over the batch axis only), not per channel":
            lambda: x64.mean(0) if which == 0 else x64.std(0),
    }
    if which == 1:
        out["the standard deviation is the biased one; use torch's default (unbiased) x.std(...)"] = \
            lambda: x64.std(dim=dims, unbiased=False)
    return out


def normalize_mistakes(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> dict[str, t.Callable[[], torch.Tensor]]:
    x64, m, s = f64(x), f64(mean), f64(std)
    return {"mean and std (C,) were broadcast against the last axis instead of the channel axis (axis 1)":
            lambda: (x64 - m) / s,
            "the mean is subtracted but the result is not divided by the std": lambda: x64 - ref.normalize(
                torch.zeros_like(x64), -m, torch.ones_like(s)),
            "divided by the variance instead of the standard deviation": lambda: ref.normalize(x64, m, s**2)}


# -- training --------------------------------------------------------------------------------------
class _UnweightedLearner(ref.Learner):
    """The reference Learner, but with plain means of the batch means."""

    def fit(self, n_epoch: int) -> list[dict[str, float]]:
        self.history = []
        for _ in range(n_epoch):
            losses = []
            for xb, yb in self.dls.train:
                loss = self.loss_func(self.model(xb), yb)
                loss.backward()
                _sgd_step(self.model, self.lr)
                losses.append(float(loss))
            with torch.no_grad():
                vl = [float(self.loss_func(self.model(xb), yb)) for xb, yb in self.dls.valid]
                acc = [float(ref.accuracy(self.model(xb), yb)) for xb, yb in self.dls.valid]
            self.history.append({"train_loss": sum(losses) / len(losses), "valid_loss": sum(vl) / len(vl),
                                 "accuracy": sum(acc) / len(acc)})
        return self.history


class _NoZeroGradLearner(ref.Learner):
    """The reference Learner, but the gradients are never reset (they add up over the batches)."""

    def fit(self, n_epoch: int) -> list[dict[str, float]]:
        self.history = []
        for _ in range(n_epoch):
            total, count = 0.0, 0
            for xb, yb in self.dls.train:
                loss = self.loss_func(self.model(xb), yb)
                loss.backward()
                with torch.no_grad():
                    for p in self.model.parameters():
                        p -= self.lr * p.grad
                total += float(loss) * len(xb)
                count += len(xb)
            with torch.no_grad():
                batches = list(self.dls.valid)
                preds = torch.cat([self.model(xb) for xb, _ in batches])
                targets = torch.cat([yb for _, yb in batches])
            self.history.append({"train_loss": total / count, "valid_loss": float(F.cross_entropy(preds, targets)),
                                 "accuracy": float(ref.accuracy(preds, targets))})
        return self.history


def _api(**changes: t.Any) -> types.SimpleNamespace:
    ns = types.SimpleNamespace(**{k: getattr(ref, k) for k in dir(ref) if not k.startswith("_")})
    ns.__dict__.update(changes)
    return ns


def fit_mistakes(args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> dict[str, t.Callable[[], t.Any]]:
    """description -> the ``fit_history`` result of a known mistake (run on demand, here)."""
    from grader._seeding import deterministic

    def run(api: types.SimpleNamespace) -> t.Callable[[], t.Any]:
        @functools.cache
        def result() -> t.Any:
            with deterministic(kwargs["seed"]):
                return scenarios().fit_history(api, *args, **kwargs)
        return result

    return {"the metrics are plain means of the batch means; weight each batch by its size "
            "(the last batch is smaller)": run(_api(Learner=_UnweightedLearner)),
            "the gradients are never reset, so they add up over the batches (zero them or set them to None "
            "after each step)": run(_api(Learner=_NoZeroGradLearner))}


def check_history(got: t.Any, want: list[dict[str, float]], *, what: str,
                  hints: dict[str, t.Callable[[], t.Any]] | None = None) -> None:
    """Each epoch's train_loss, valid_loss and accuracy close to the reference run's."""
    __tracebackhide__ = True
    if not isinstance(got, list):
        fail(f"{what} returned {got if isinstance(got, str) else type(got).__name__}, but a list with one dict "
             "per epoch is expected.")
    if len(got) != len(want):
        fail(f"{what} returned {len(got)} entries, but one per epoch ({len(want)}) is expected.")
    for epoch, (row, expected) in enumerate(zip(got, want)):
        if not isinstance(row, dict) or set(row) != set(expected):
            keys = sorted(row) if isinstance(row, dict) else row
            fail(f"{what}: entry {epoch} must be a dict with the keys {sorted(expected)}, not {keys}.")
        for key, value in expected.items():
            mine = row[key]
            if not isinstance(mine, float):
                fail(f"{what}: epoch {epoch}'s {key} is not a number ({mine}).")
            # float32 training over a few dozen SGD steps: 1e-4 relative, as for float32 results.
            if abs(mine - value) > 1e-4 * max(1.0, abs(value)):
                message = f"{what}: epoch {epoch}'s {key} is off by {abs(mine - value):.3g}."
                for description, run in (hints or {}).items():
                    other = run()["history"][epoch][key]
                    if abs(mine - other) <= 1e-4 * max(1.0, abs(other)) and abs(other - value) > 1e-6:
                        message += f"\nIt looks like {description}."
                        break
                fail(message)


# -- scoring a trained model here ------------------------------------------------------------------
def score_weights(weights: t.Any, *, seed: int, n_train: int, n_valid: int, hidden: int) -> float:
    """Accuracy of ``Sequential(Linear, Linear)`` with the returned weights, on fresh items of the task.

    The forward pass is the documented one, ``x @ W.T + b`` twice; the inputs are normalised with
    statistics computed here from the training items the scenario's seed fixes.
    """
    from grader.scenarios import fresh_seed

    sc = scenarios()
    shapes = [((hidden, sc.N_FEATURES), (hidden,)), ((sc.N_CLASSES, hidden), (sc.N_CLASSES,))]
    if not isinstance(weights, list) or len(weights) != 2:
        fail("The training scenario did not return the two layers' weights; do not change the scenarios.")
    layers = []
    for i, (layer, (w_shape, b_shape)) in enumerate(zip(weights, shapes)):
        if (not isinstance(layer, list) or len(layer) != 2 or not all(type(v) is torch.Tensor for v in layer)):
            fail("The training scenario did not return the weights as tensors; do not change the scenarios.")
        w, b = layer
        if tuple(w.shape) != w_shape or tuple(b.shape) != b_shape:
            fail(f"After training, Linear layer {i} has weight {tuple(w.shape)} and bias {tuple(b.shape)}, but "
                 f"{w_shape} and {b_shape} are expected (weight is (n_out, n_in)).")
        layers.append((f64(w), f64(b)))
    x_all, _ = sc.blobs(seed, n_train + n_valid)
    mean, std = ref.normalize_stats(f64(x_all[:n_train]))
    x, y = sc.blobs(seed, 600, g=torch.Generator().manual_seed(fresh_seed()))
    h = ref.normalize(f64(x), mean, std)
    for w, b in layers:
        h = h @ w.T + b
    if not torch.isfinite(h).all():
        return 0.0
    return float((h.argmax(1) == y).double().mean())
