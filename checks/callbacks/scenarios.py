"""Scenarios for `callbacks`: build a tiny model, data and recording callbacks, run ``fit``.

These functions run twice: in the sandbox against your package (``impl`` is your `callbacks`
package) and in the grader against fastai's own ``Learner`` (``impl`` is then an adapter with the
same API). They return data only: the trace of events each recorder saw, the losses, the final
weights. Nothing here knows the expected answer.
"""

from __future__ import annotations

import torch
from torch import nn

#: Events of the brackets the checks cancel: X -> CancelXException.
CANCEL_EXCEPTIONS = {"batch": "CancelBatchException", "train": "CancelTrainException",
                     "validate": "CancelValidException", "epoch": "CancelEpochException",
                     "fit": "CancelFitException", "step": "CancelStepException",
                     "backward": "CancelBackwardException"}
EVENTS = ("after_create before_fit before_epoch before_train before_batch after_pred after_loss "
          "before_backward after_backward before_step after_step after_batch after_train "
          "before_validate after_validate after_epoch after_fit").split()
ALL_EVENTS = EVENTS + [f"after_cancel_{x}" for x in CANCEL_EXCEPTIONS]
#: Events inside the batch loop: they also record ``iter`` and ``n_iter``.
BATCH_EVENTS = {"before_batch", "after_pred", "after_loss", "before_backward", "after_backward", "before_step",
                "after_step", "after_batch", "after_cancel_batch", "after_cancel_step", "after_cancel_backward"}
#: Names a Learner exposes, as fastai's does.
LEARNER_NAMES = ("model", "dls", "loss_func", "opt", "lr", "n_epoch", "epoch", "iter", "n_iter", "xb", "yb",
                 "pred", "loss", "training")


def _number(value) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


class DataLoaders:
    """``.train`` and ``.valid`` lists of ``(xb, yb)`` batches (also indexable, as fastai's)."""

    def __init__(self, train: list, valid: list, device: str) -> None:
        self.train, self.valid, self.device = train, valid, torch.device(device)

    def __getitem__(self, i: int) -> list:
        return (self.train, self.valid)[i]

    def __len__(self) -> int:
        return 2


class PlainSGD:
    """``p -= lr * p.grad``, with the ``param_groups`` a torch optimizer has (so fastai can wrap it).

    Not ``torch.optim.SGD``: its first use imports ``torch._dynamo``, seconds per process.
    """

    def __init__(self, params, lr: float) -> None:
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.state: dict = {}

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None


def make_data(seed: int, device: str, n_train: int, n_valid: int, bs: int = 4) -> DataLoaders:
    """A 3-class problem on 5 features, labelled by a random linear rule."""
    g = torch.Generator().manual_seed(seed)
    rule = torch.randn(5, 3, generator=g)

    def batches(n: int) -> list:
        out = []
        for _ in range(n):
            x = torch.randn(bs, 5, generator=g)
            out.append((x.to(device), (x @ rule).argmax(1).to(device)))
        return out

    return DataLoaders(batches(n_train), batches(n_valid), device)


def make_model(device: str) -> nn.Module:
    """Linear, BatchNorm (so train and eval mode give different outputs), ReLU, Linear."""
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).to(device)


def make_recorder(impl, tag: str, order: int, trace: list, values: list, cancel=None, error_at=None):
    """A callback that records every event it sees; it may raise a cancel (or another) exception.

    :param cancel: ``(event, bracket, occurrence)``: raise ``impl.Cancel<bracket>Exception`` the
        ``occurrence``-th time this recorder sees ``event`` (1-based).
    :param error_at: ``(event, occurrence)``: raise ``ValueError`` there instead.
    """
    seen: dict[str, int] = {}
    state = {"in_loop": False}

    def make_method(event: str):
        def method(self) -> None:
            learn = self.learn
            seen[event] = seen.get(event, 0) + 1
            if event in ("before_train", "before_validate"):
                state["in_loop"] = True
            entry: list = [tag, event]
            if event in BATCH_EVENTS:
                entry += [int(learn.iter), int(learn.n_iter)]
            if state["in_loop"]:
                entry += [bool(learn.training), bool(learn.model.training), torch.is_grad_enabled()]
            if event in ("after_train", "after_validate"):
                state["in_loop"] = False
            trace.append(entry)
            if tag == "A":
                if event == "after_loss":
                    values.append(["loss", _number(learn.loss)])
                elif event == "after_backward":
                    values.append(["grad", float(sum(p.grad.abs().sum() for p in learn.model.parameters()
                                                     if p.grad is not None))])
                elif event == "after_step":
                    values.append(["weights", float(sum(p.detach().abs().sum() for p in learn.model.parameters()))])
                elif event == "after_create":
                    values.append(["learn_set", learn is not None])
            if cancel is not None and event == cancel[0] and seen[event] == cancel[2]:
                raise getattr(impl, CANCEL_EXCEPTIONS[cancel[1]])()
            if error_at is not None and event == error_at[0] and seen[event] == error_at[1]:
                raise ValueError(f"raised by a callback in {event}")
        return method

    namespace = {event: make_method(event) for event in ALL_EVENTS}
    namespace["order"] = order
    return type(f"Recorder{tag}", (impl.Callback,), namespace)()


def fit_events(impl, *, seed: int, n_epoch: int = 2, n_train: int = 3, n_valid: int = 2,
               orders=(0, 5), cancel=None, error_at=None, device: str = "cpu", lr: float = 0.1) -> dict:
    """Fit a tiny model with two recorders (``A`` given first, ``B`` second) and return what they saw.

    Returns ``{"trace": [[tag, event, (iter, n_iter), (training, model.training, grad_enabled)]...],
    "values": [[kind, number]...], "state": final state_dict, "error": exception type or None,
    "opt_calls": [[number of params, lr]...]}``.
    """
    dls = make_data(seed, device, n_train, n_valid)
    model = make_model(device)
    trace: list = []
    values: list = []
    opt_calls: list = []

    def opt_func(params, lr):
        params = list(params)
        opt_calls.append([len(params), float(lr)])
        return PlainSGD(params, lr)

    recorders = [make_recorder(impl, "A", orders[0], trace, values, cancel, error_at),
                 make_recorder(impl, "B", orders[1], trace, [])]
    learn = impl.Learner(model, dls, nn.functional.cross_entropy, opt_func, lr, recorders)
    error = None
    try:
        learn.fit(n_epoch)
    except Exception as exc:  # a non-cancel exception must come out of fit unchanged
        error = type(exc).__name__
    return {"trace": trace, "values": values, "error": error, "opt_calls": opt_calls,
            "state": {k: v.detach().cpu() for k, v in model.state_dict().items()}}


def learner_names(impl, *, seed: int, n_epoch: int = 1, n_train: int = 2, n_valid: int = 1,
                  device: str = "cpu") -> dict:
    """Which of fastai's names the Learner exposes at ``after_loss``, and what they hold there at every batch
    of ``fit(n_epoch)``: ``steps`` holds ``[epoch, iter, n_iter, training, n_epoch, lr, loss, pred]`` per
    ``after_loss``."""
    dls = make_data(seed, device, n_train, n_valid)
    model = make_model(device)
    found: dict = {"steps": []}

    class Inspector(impl.Callback):
        order = 1

        def after_loss(self) -> None:
            learn = self.learn
            if "missing" not in found:
                found["missing"] = [n for n in LEARNER_NAMES if not hasattr(learn, n)]
                if not found["missing"]:
                    found["model_is_model"] = learn.model is model
                    found["dls_is_dls"] = learn.dls is dls
                    found["opt_has_step"] = callable(getattr(learn.opt, "step", None))
                    found["opt_has_zero_grad"] = callable(getattr(learn.opt, "zero_grad", None))
            if found["missing"]:
                return
            found["steps"].append([int(learn.epoch), int(learn.iter), int(learn.n_iter), bool(learn.training),
                                   int(learn.n_epoch), float(learn.lr), _number(learn.loss),
                                   learn.pred.detach().cpu()])

    learn = impl.Learner(model, dls, nn.functional.cross_entropy,
                         lambda params, lr: PlainSGD(params, lr), 0.05, [Inspector()])
    learn.fit(n_epoch)
    return found
