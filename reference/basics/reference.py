"""Trusted reference for `basics`: torch (and its autograd) in float64, and known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t

import torch

from grader.testing import precision_hints

Hints = dict[str, t.Callable[[], torch.Tensor]]


def f64(x: torch.Tensor) -> torch.Tensor:
    """A float64 CPU copy of ``x`` (detached)."""
    return x.detach().to("cpu", torch.float64)


def matmul_ref(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.mm(f64(a), f64(b))


def relu_ref(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(f64(x))


def lin_ref(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.mm(f64(x), f64(w)) + f64(b)


def mse_ref(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (f64(pred).squeeze(-1) - f64(target)).pow(2).mean()


PARAMS = ("w1", "b1", "w2", "b2")


def mlp_ref(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
            y: torch.Tensor, broadcast_mse: bool = False) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss and gradients of ``lin -> relu -> lin -> mse`` by torch autograd on float64 copies.

    ``broadcast_mse`` reproduces the classic mistake ``(out - y)`` with out (n, 1), y (n,).
    """
    params = {k: f64(v).requires_grad_(True) for k, v in zip(PARAMS, (w1, b1, w2, b2))}
    x64, y64 = f64(x), f64(y)
    with torch.enable_grad():
        out = torch.relu(x64 @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]
        diff = out - y64 if broadcast_mse else out.squeeze(-1) - y64
        loss = diff.pow(2).mean()
        grads = torch.autograd.grad(loss, [params[k] for k in PARAMS])
    return loss.detach(), dict(zip(PARAMS, (g.detach() for g in grads)))


def _hand_grads(x, w1, b1, w2, b2, y, *, mask: str = "gt", scale: float = 1.0, bias_mean: bool = False,
                per_n: bool = True) -> dict[str, torch.Tensor]:
    """Hand-written backprop in float64 with one knob per known mistake."""
    x64, w1, b1, w2, b2, y64 = (f64(v) for v in (x, w1, b1, w2, b2, y))
    n = x64.shape[0]
    l1 = x64 @ w1 + b1
    a1 = l1.clamp_min(0)
    out = a1 @ w2 + b2
    g_out = 2.0 * scale * (out.squeeze(-1) - y64)[:, None] / (n if per_n else 1)
    m = {"gt": l1 > 0, "ge": l1 >= 0, "inverted": l1 <= 0, "none": torch.ones_like(l1, dtype=torch.bool)}[mask]
    g_l1 = (g_out @ w2.t()) * m.double()
    reduce = (lambda g: g.mean(0)) if bias_mean else (lambda g: g.sum(0))
    return {"w1": x64.t() @ g_l1, "b1": reduce(g_l1), "w2": a1.t() @ g_out, "b2": reduce(g_out)}


def mlp_mistakes(x, w1, b1, w2, b2, y) -> dict[str, Hints]:
    """Per gradient key: known wrong results, keyed by the text the student sees after "It looks like"."""
    args = (x, w1, b1, w2, b2, y)
    variants: dict[str, t.Callable[[], dict[str, torch.Tensor]]] = {
        "the 1/n of the mean is missing from the gradients (the loss is a mean over the batch)":
            lambda: _hand_grads(*args, per_n=False),
        "the factor 2 from the derivative of the square is missing": lambda: _hand_grads(*args, scale=0.5),
        "the bias gradient is averaged over the batch; it must be summed (the 1/n is already in g_out)":
            lambda: _hand_grads(*args, bias_mean=True),
        "the ReLU mask is inverted (the gradient must pass where the pre-activation is > 0)":
            lambda: _hand_grads(*args, mask="inverted"),
        "the ReLU's gradient is left out (no mask)": lambda: _hand_grads(*args, mask="none"),
        "the ReLU's derivative at exactly 0 is taken as 1; PyTorch (and fastbook) use 0 there (mask l > 0)":
            lambda: _hand_grads(*args, mask="ge"),
        "out (n, 1) minus y (n,) was broadcast into an (n, n) matrix in the loss: squeeze the last axis first":
            lambda: mlp_ref(*args, broadcast_mse=True)[1],
    }
    cache: dict[str, dict[str, torch.Tensor]] = {}

    def pick(description: str, key: str) -> t.Callable[[], torch.Tensor]:
        def value() -> torch.Tensor:
            if description not in cache:
                cache[description] = variants[description]()
            return cache[description][key]
        return value

    return {key: {d: pick(d, key) for d in variants} for key in PARAMS}


def mse_mistakes(pred: torch.Tensor, target: torch.Tensor) -> Hints:
    p, y = f64(pred), f64(target)
    return {
        "pred (n, 1) minus target (n,) was broadcast into an (n, n) matrix: squeeze the last axis of pred first":
            lambda: (p - y).pow(2).mean(),
        "the squared errors are summed instead of averaged": lambda: (p.squeeze(-1) - y).pow(2).sum(),
        "the square root was taken (that is the RMSE)": lambda: (p.squeeze(-1) - y).pow(2).mean().sqrt(),
    }


def matmul_mistakes(a: torch.Tensor, b: torch.Tensor) -> Hints:
    a64, b64 = f64(a), f64(b)
    out: Hints = {"the result is transposed (rows and columns swapped)": lambda: (a64 @ b64).t()}
    if b64.shape[0] == b64.shape[1]:
        out["rows of b were used where its columns belong (that is a @ b.T)"] = lambda: a64 @ b64.t()
    if a64.shape[0] == a64.shape[1]:
        out["rows and columns of a were swapped (that is a.T @ b)"] = lambda: a64.t() @ b64
    return out


# Hints without those too close to the right answer, plus "computed in lower precision" for float64.
with_precision = precision_hints
