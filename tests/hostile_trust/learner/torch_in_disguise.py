"""Appended to the solution of learner.py: Module, Linear, Parameter and the loss are torch's own,
reached without their names, and the worker's own records are forged: ``class_bases`` reports the
solution's plain classes, the aten-op recorder records nothing and the module record is empty.
Every value check passes; the from-scratch gate (read from the source here) must void them all.
"""

import sys as _sys

_nn = torch.nn
_TorchModule = _nn.Identity.__base__  # torch.nn.Module without its name


class Module(_TorchModule):  # noqa: F811
    def parameters(self):  # a list, as the exercise asks
        return list(_TorchModule.parameters(self))


Parameter = type(_nn.Bilinear(1, 1, 1).weight)  # torch.nn.Parameter  # noqa: F811


class Linear(_nn.LazyLinear.__mro__[2]):  # torch.nn.Linear  # noqa: F811
    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out)

    def parameters(self):
        return list(_TorchModule.parameters(self))


class Sequential(Module):  # noqa: F811
    def __init__(self, *layers):
        super().__init__()
        self.layers = _nn.ModuleList([f if isinstance(f, _TorchModule) else _nn.Identity() for f in layers])
        self.funcs = list(layers)

    def forward(self, x):
        for layer in self.funcs:
            x = layer(x)
        return x


def log_softmax(x, dim=-1):  # noqa: F811
    return x.log_softmax(dim)


def cross_entropy(logits, targets):  # noqa: F811
    return torch._C._nn.cross_entropy_loss(logits, targets, None, 1, -100, 0.0)


_PLAIN = {name: [f"learner.learner.{name}", "builtins.object"]
          for name in ("Module", "Linear", "Sequential", "Parameter", "DataLoader", "Dataset")}


class _NoOps:
    ops: set = set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


for _worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
    _Worker = getattr(_worker, "_Worker", None)
    if _Worker is None or "_forged" in vars(_Worker):
        continue
    _Worker._forged = True
    _worker._op_recorder = _NoOps

    def _run(self, header, package, args, kwargs, _honest=_Worker.run_scenario):
        if header["path"][0] == "class_bases":
            return _PLAIN
        return _honest(self, header, package, args, kwargs)

    def _handle(self, header, blobs, _honest=_Worker.handle):
        if header.get("op") == "modules":
            return {"ok": True, "value": []}, []
        return _honest(self, header, blobs)

    _Worker.run_scenario, _Worker.handle = _run, _handle
