"""Trusted values for `siamese`: the architecture of the scenarios rebuilt here, and known mistakes.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import typing as t

import torch
from torch import nn

from grader.scenarios import load_scenarios
from grader.testing import fail


def scenarios(reference: t.Any) -> t.Any:
    """``checks/siamese/scenarios.py`` as a module of this process (its ``make_parts``, ``IMAGE``...)."""
    return load_scenarios(reference.exercise)


def trusted_parts(reference: t.Any, state: t.Mapping[str, torch.Tensor], what: str) -> tuple[nn.Module, nn.Module]:
    """Encoder and head built here in float64, loaded from a ``SiameseModel`` state_dict.

    Fails the check (not the grader) when ``state`` does not fit ``encoder.*`` + ``head.*``.
    """
    __tracebackhide__ = True
    encoder, head = scenarios(reference).make_parts("float64")
    model = reference.SiameseModel(encoder, head)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail(f"{what}: the state_dict is not a dict of tensors.")
    want = model.state_dict()
    extra, missing = sorted(set(state) - set(want)), sorted(set(want) - set(state))
    if extra or missing:
        fail(f"{what}: the model's state_dict does not fit `encoder` + `head`"
             + (f"; extra entries {extra[:4]} (a second encoder? share one)" if extra else "")
             + (f"; missing {missing[:4]} (keep the parts as self.encoder and self.head)" if missing else "") + ".")
    for key, value in state.items():
        if value.shape != want[key].shape:
            fail(f"{what}: {key} has shape {tuple(value.shape)}, but {tuple(want[key].shape)} is expected.")
    model.load_state_dict({k: v.detach().cpu().double() for k, v in state.items()})
    return encoder, head


def forward_ref(encoder: nn.Module, head: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        a, b = x1.detach().cpu().double(), x2.detach().cpu().double()
        return head(torch.cat([encoder(a), encoder(b)], dim=1))


def forward_mistakes(encoder: nn.Module, head: nn.Module, x1: torch.Tensor,
                     x2: torch.Tensor) -> dict[str, t.Callable[[], torch.Tensor]]:
    a, b = x1.detach().cpu().double(), x2.detach().cpu().double()

    def rounded(kind: torch.dtype) -> torch.Tensor:
        with torch.no_grad():
            return head(torch.cat([encoder(a), encoder(b)], dim=1).to(kind).double())

    def swapped() -> torch.Tensor:
        with torch.no_grad():
            return head(torch.cat([encoder(b), encoder(a)], dim=1))

    def first_twice() -> torch.Tensor:
        with torch.no_grad():
            return head(torch.cat([encoder(a), encoder(a)], dim=1))

    out: dict[str, t.Callable[[], torch.Tensor]] = {
        "the features are concatenated as [encoder(x2), encoder(x1)]; x1's features come first": swapped,
        "both halves of the concatenation are encoder(x1); the second must be encoder(x2)": first_twice,
    }
    if x1.dtype == torch.float64:  # the closest rounding first: hints match within 1e-4
        out["the float64 features were computed in float32"] = lambda: rounded(torch.float32)
    out["the features were computed in float16"] = lambda: rounded(torch.float16)
    out["the features were computed in bfloat16"] = lambda: rounded(torch.bfloat16)
    return out


def accuracy(encoder: nn.Module, head: nn.Module, xa: torch.Tensor, xb: torch.Tensor, same: torch.Tensor) -> float:
    with torch.no_grad():
        pred = head(torch.cat([encoder(xa), encoder(xb)], dim=1)).argmax(1)
    return float((pred == same.long()).double().mean())
