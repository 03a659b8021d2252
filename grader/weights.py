"""Judging a model here, on its weights: what a scenario that builds or trains a model sends back.

A model built or trained in the worker is only ever a claim: the student can patch the scenario,
the model class or torch itself there. What cannot be forged is a set of tensors: the trusted
process rebuilds the published architecture, loads the student's parameters and buffers into it
and evaluates *that* model on data the worker never saw (DESIGN.md, principle 6).

:func:`load_weights` does the loading with messages that name what is missing, extra or of the
wrong shape (never the expected values), so that a wrong structure is a clear failure instead of
a traceback from ``load_state_dict``.
"""

from __future__ import annotations

import typing as t

import torch
from torch import nn

from .testing import fail

__all__ = ["load_weights", "state_of", "weight_names"]


def weight_names(state: t.Mapping[str, object]) -> list[str]:
    """The parameter and buffer names of a returned state, sorted (for structure checks)."""
    return sorted(str(k) for k in state)


def _check_state(state: object, what: str) -> dict[str, torch.Tensor]:
    __tracebackhide__ = True
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        fail(f"{what}: the scenario should send the model's state_dict (names -> tensors), "
             f"but it sent a {type(state).__name__}.")
    bad = sorted(k for k, v in state.items() if type(v) not in (torch.Tensor, nn.Parameter))
    if bad:
        fail(f"{what}: these entries of the model's state are not plain tensors: {', '.join(bad[:5])}.")
    return t.cast(dict, state)


def load_weights(model: nn.Module, state: object, *, what: str = "your model",
                 ignore: t.Callable[[str], bool] | None = None) -> nn.Module:
    """Load the worker's ``state`` (a ``state_dict`` as data) into the trusted ``model``, strictly.

    Missing names, extra names and wrong shapes fail the check with a message that lists them.
    ``ignore(name)`` drops entries neither side must have (``num_batches_tracked``, say).
    Returns ``model`` (in eval mode, on the CPU, in float64 when the state is float64).
    """
    __tracebackhide__ = True
    got = _check_state(state, what)
    want = model.state_dict()
    if ignore is not None:
        got = {k: v for k, v in got.items() if not ignore(k)}
        want = {k: v for k, v in want.items() if not ignore(k)}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"it lacks {', '.join(missing[:6])}" + (" …" if len(missing) > 6 else ""))
        if extra:
            parts.append(f"it has unexpected {', '.join(extra[:6])}" + (" …" if len(extra) > 6 else ""))
        fail(f"{what} does not have the published structure: " + "; ".join(parts) + ".")
    shapes = [f"{k} is {tuple(got[k].shape)}, expected {tuple(want[k].shape)}"
              for k in sorted(want) if tuple(got[k].shape) != tuple(want[k].shape)]
    if shapes:
        fail(f"{what} has weights of the wrong shape: " + "; ".join(shapes[:4]) + ".")
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name in got:
                source = got[name].detach().to("cpu")
                if not torch.isfinite(source.float()).all() if source.is_floating_point() else False:
                    fail(f"{what}: the weight {name} holds NaN or infinite values.")
                tensor.copy_(source.to(tensor.dtype))
    return model.eval()


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of ``model``'s state, the way a scenario returns it."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
