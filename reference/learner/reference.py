"""Trusted helpers for `learner`: float64 references, known mistakes, scoring a trained model here.

Only the grader's process imports this.
"""

from __future__ import annotations

import functools
import types
import typing as t
from pathlib import Path

import torch
import torch.nn.functional as F

from grader.scenarios import load_scenario_file
from grader.testing import fail

from . import implementation as ref
from .implementation import _sgd_step

#: Forbidden by name (the source scan) and by what the names resolve to (``lineage.py``).
FORBIDDEN = [
    "torch.nn.functional.cross_entropy", "torch.nn.functional.log_softmax", "torch.nn.functional.softmax",
    "torch.nn.functional.nll_loss", "torch.log_softmax", "torch.softmax", "torch.special.log_softmax",
    "torch.special.softmax", "torch.Tensor.log_softmax", "torch.Tensor.softmax", "torch.nn.CrossEntropyLoss",
    "torch.nn.NLLLoss", "torch.nn.LogSoftmax", "torch.nn.Softmax", "torch.utils.data.DataLoader",
    "torch.utils.data.TensorDataset", "torch.utils.data.default_collate", "torch.nn.Module", "torch.nn.Parameter",
    "torch.nn.Linear", "torch.nn.functional.linear", "torch.nn.Sequential",
]

#: What the source may not reach, by any name: resolved here against torch (reference/learner/lineage.py).
BUILT_FROM_SCRATCH = dict(
    package="learner", classes=["Dataset", "DataLoader", "DataLoaders", "Parameter", "Module", "Linear", "Sequential",
                                "Learner"],
    forbidden=FORBIDDEN, forbidden_bases=["torch.nn.Module", "torch.nn.Parameter", "torch.utils.data.Dataset",
                                          "torch.utils.data.DataLoader", "torch.utils.data.Sampler"],
    forbidden_modules=["fastai", "fasttransform", "torch.utils.data"],
    forbidden_callables=r"softmax|nll_loss|cross_entropy|^linear$", forbidden_methods=["log_softmax", "softmax"])

_SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "learner" / "scenarios.py"


@functools.cache
def scenarios() -> types.ModuleType:
    """The public scenarios, loaded here under a private name (data generators, mistaken runs)."""
    return load_scenario_file(_SCENARIOS)


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
        if not isinstance(row, dict) or not set(expected) <= set(row):  # more keys (fastai logs `epoch`) are fine
            keys = sorted(row) if isinstance(row, dict) else row
            fail(f"{what}: entry {epoch} must be a dict with the keys {sorted(expected)} (more keys are fine), "
                 f"but it has {keys}.")
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
#: The separable task of ``train_separable``: items of 4 features in 3 classes.
N_FEATURES, N_CLASSES = 4, 3


class PrivateTask:
    """A separable task whose distribution is drawn here from a private seed and never sent.

    The sandbox gets training and validation *items* (it must learn from them); the model is
    scored on new items of the same distribution that never leave this process, so a rule
    written from the scenario's code cannot know the task. Class centres are well apart (about 6
    noise units), and every feature has a large offset (~40) and scale (4-30): without per-channel
    normalisation plain SGD at lr 0.1 diverges.
    """

    def __init__(self, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(N_FEATURES, N_FEATURES, generator=g, dtype=torch.float64))
        self.centers = 4.5 * q[:N_CLASSES] + 0.3 * torch.randn(N_CLASSES, N_FEATURES, generator=g, dtype=torch.float64)
        self.mix = torch.eye(N_FEATURES, dtype=torch.float64) + 0.2 * torch.randn(N_FEATURES, N_FEATURES, generator=g,
                                                                                  dtype=torch.float64)
        self.offset = torch.randn(N_FEATURES, generator=g, dtype=torch.float64) * 40
        self.scale = torch.rand(N_FEATURES, generator=g, dtype=torch.float64) * 26 + 4

    def draw(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` items (float32) and labels (long), from a generator seeded with ``seed``."""
        g = torch.Generator().manual_seed(seed)
        y = torch.randint(0, N_CLASSES, (n,), generator=g)
        noise = torch.randn(n, N_FEATURES, generator=g, dtype=torch.float64) @ self.mix.T
        x = (self.centers[y] + noise) * self.scale + self.offset
        return x.float(), y


def trained_model(state: t.Any, *, hidden: int) -> torch.nn.Module:
    """``nn.Sequential(nn.Linear(4, hidden), nn.Linear(hidden, 3))`` in float64, carrying the returned weights."""
    from grader.weights import load_weights

    model = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, hidden), torch.nn.Linear(hidden, N_CLASSES)).double()
    return load_weights(model, state, what="The trained Sequential(Linear, Linear)")


def score_model(model: torch.nn.Module, task: PrivateTask, x_train: torch.Tensor, *, n: int = 600) -> float:
    """Accuracy of ``model`` on ``n`` new items of ``task``, normalised with the statistics of ``x_train``
    (what ``make_dls`` must use), computed here."""
    from grader.scenarios import fresh_seed

    mean, std = ref.normalize_stats(f64(x_train))
    x, y = task.draw(n, fresh_seed())
    with torch.no_grad():
        out = model(ref.normalize(f64(x), mean, std))
    if not torch.isfinite(out).all():
        return 0.0
    return float((out.argmax(1) == y).double().mean())
