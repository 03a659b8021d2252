"""Scenarios for `learner`: they use your classes the way a training script would.

Each function gets the exercise's API as ``impl`` (your package, or, for the graders' expected
values, the same API built on torch: ``nn.Module``, ``torch.utils.data.DataLoader``,
``F.cross_entropy``), builds everything from plain arguments and the run's ``seed``, and returns
data only (plain tensors, numbers, lists, dicts). Nothing here knows the expected answer.
"""

from __future__ import annotations

import torch


def _plain(x):
    """A plain tensor copy (your ``Parameter`` is a tensor subclass, which does not travel)."""
    return x.detach().as_subclass(torch.Tensor).clone()


def _batches(loader):
    out = []
    for batch in loader:
        xb, yb = batch
        out.append((_plain(xb), _plain(yb)))
    return out


# -- data --------------------------------------------------------------------------------------------
def dataset_items(impl, x, y, indices, *, seed):
    """``len(ds)`` and ``ds[i]`` for the given indices."""
    ds = impl.Dataset(x, y)
    return {"len": len(ds), "items": [tuple(_plain(v) for v in ds[i]) for i in indices]}


def loader_batches(impl, x, y, bs, *, seed, shuffle=False, loader_seed=None, epochs=1):
    """``len(dl)`` and the batches of ``epochs`` epochs; with ``loader_seed`` also the first epoch of
    a second loader made with the same seed."""
    dl = impl.DataLoader(impl.Dataset(x, y), bs, shuffle=shuffle, seed=loader_seed)
    out = {"len": len(dl), "epochs": [_batches(dl) for _ in range(epochs)]}
    if loader_seed is not None:
        again = impl.DataLoader(impl.Dataset(x, y), bs, shuffle=shuffle, seed=loader_seed)
        out["same_seed"] = _batches(again)
    return out


def dls_batches(impl, x_train, y_train, x_valid, y_valid, bs, *, seed, loader_seed=None):
    """One epoch of ``make_dls(...).train`` and of ``.valid``."""
    dls = impl.make_dls(x_train, y_train, x_valid, y_valid, bs, seed=loader_seed)
    return {"train": _batches(dls.train), "valid": _batches(dls.valid)}


# -- model -------------------------------------------------------------------------------------------
def class_bases(impl, *, seed):
    """The classes each of ``Module``, ``Linear``, ``Sequential``, ``Parameter``, ``DataLoader`` is built on
    (extra evidence only: the graders decide what your classes are built on from your source)."""
    return {name: [f"{k.__module__}.{k.__qualname__}" for k in getattr(impl, name).__mro__]
            for name in ("Module", "Linear", "Sequential", "Parameter", "DataLoader", "Dataset")}


def parameter_info(impl, x, *, seed):
    p = impl.Parameter(x)
    return {"values": _plain(p), "requires_grad": bool(p.requires_grad), "is_tensor": isinstance(p, torch.Tensor),
            "is_leaf": bool(p.is_leaf), "is_parameter": isinstance(p, impl.Parameter)}


def nested_parameters(impl, sizes, *, seed, lr=0.5):
    """A Module holding a Sequential of two Linears, a Linear, a Parameter and a plain tensor.

    Reports what ``parameters()`` gives (shapes, how many distinct, requires_grad), then takes one SGD
    step through it (``p -= lr * p.grad`` for every ``p`` it gives) and returns every tensor of the
    model before and after the step, in a fixed order: a parameter that ``parameters()`` misses is not
    updated, one it gives twice is updated twice, a plain tensor it gives is updated although it must not be.
    """
    a, b, c = sizes
    g = torch.Generator().manual_seed(seed)
    l1, l2, head = impl.Linear(a, b), impl.Linear(b, c), impl.Linear(c, 2)
    for layer, (n_in, n_out) in ((l1, (a, b)), (l2, (b, c)), (head, (c, 2))):
        _set_linear(layer, torch.randn(n_out, n_in, generator=g) / n_in**0.5, torch.randn(n_out, generator=g) * 0.3,
                    "cpu")
    scale = impl.Parameter(torch.rand(c, generator=g) + 0.5)
    offset = torch.randn(c, generator=g).requires_grad_()  # a plain tensor (with a gradient): not a parameter

    class Net(impl.Module):
        def __init__(self):
            super().__init__()
            self.body = impl.Sequential(l1, l2)
            self.offset = offset
            self.scale = scale
            self.head = head

        def forward(self, x):
            return self.head((self.body(x) + self.offset) * self.scale)

    net = Net()
    params = list(net.parameters())
    deep = impl.Sequential(impl.Sequential(impl.Linear(a, c)), impl.Linear(c, b))
    tensors = lambda: [_plain(v) for v in (l1.weight, l1.bias, l2.weight, l2.bias, scale, head.weight, head.bias,  # noqa: E731
                                           offset)]
    before = tensors()
    x, w = torch.randn(6, a, generator=g), torch.randn(6, 2, generator=g)
    (net(x) * w).sum().backward()
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
    return {"shapes": [list(p.shape) for p in params], "unique": len({id(p) for p in params}),
            "requires_grad": [bool(p.requires_grad) for p in params],
            "deep_shapes": [list(p.shape) for p in deep.parameters()], "before": before, "after": tensors()}


def _set_linear(layer, weight, bias, device):
    """Give a Linear known weights (on ``device``), whatever its own initialisation was."""
    with torch.no_grad():
        layer.weight.data = weight.to(device).clone()
        layer.bias.data = bias.to(device).clone()


def linear_forward(impl, x, n_out, *, seed, device="cpu"):
    """``Linear(n_in, n_out)`` on ``device``: its weight, bias and output for ``x``."""
    layer = impl.Linear(x.shape[1], n_out)
    shapes = {"weight": list(layer.weight.shape), "bias": list(layer.bias.shape),
              "n_params": len(layer.parameters())}
    g = torch.Generator().manual_seed(seed)
    if shapes["weight"] == [n_out, x.shape[1]] and shapes["bias"] == [n_out]:
        _set_linear(layer, torch.randn(n_out, x.shape[1], generator=g), torch.randn(n_out, generator=g), device)
    y = layer(x)
    return {**shapes, "weight_values": _plain(layer.weight), "bias_values": _plain(layer.bias), "y": _plain(y)}


def ce_gradient(impl, logits, targets, *, seed):
    """The gradient of ``cross_entropy(logits, targets)`` with respect to the logits."""
    x = logits.clone().requires_grad_()
    loss = impl.cross_entropy(x, targets)
    loss.backward()
    return {"loss": _plain(loss), "grad": None if x.grad is None else _plain(x.grad)}


# -- training ----------------------------------------------------------------------------------------
def _model(impl, sizes, g, device):
    layers = [impl.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    for layer, (n_in, n_out) in zip(layers, zip(sizes[:-1], sizes[1:])):
        _set_linear(layer, torch.randn(n_out, n_in, generator=g) / n_in**0.5, torch.randn(n_out, generator=g) * 0.1,
                    device)
    return impl.Sequential(*layers), layers


class _Batches:
    """``dls.train`` / ``dls.valid``: fixed lists of batches, of uneven sizes."""

    def __init__(self, train, valid):
        self.train, self.valid = train, valid


def fit_history(impl, sizes, batch_sizes, *, seed, lr=0.3, n_epoch=3, device="cpu"):
    """``Learner(model, dls, cross_entropy, lr).fit(n_epoch)`` on fixed batches of uneven sizes.

    ``batch_sizes`` is ``[train sizes, valid sizes]``; the data are labelled by a random linear
    rule, the model is ``Sequential`` of ``Linear`` layers with weights drawn from ``seed``.
    Returns the history, ``learn.history`` and the trained weights.
    """
    g = torch.Generator().manual_seed(seed)
    rule = torch.randn(sizes[0], sizes[-1], generator=g)

    def batches(lengths):
        out = []
        for n in lengths:
            x = torch.randn(n, sizes[0], generator=g)
            out.append((x.to(device), (x @ rule + 0.5 * torch.randn(n, sizes[-1], generator=g)).argmax(1).to(device)))
        return out

    dls = _Batches(batches(batch_sizes[0]), batches(batch_sizes[1]))
    model, layers = _model(impl, sizes, g, device)
    learn = impl.Learner(model, dls, impl.cross_entropy, lr)
    history = learn.fit(n_epoch)
    kept = learn.history
    return {"history": _history(history), "kept": _history(kept), "same_list": kept is history,
            "weights": [[_plain(layer.weight), _plain(layer.bias)] for layer in layers]}


def _history(history):
    if not isinstance(history, list):
        return repr(type(history))
    out = []
    for row in history:
        if not isinstance(row, dict):
            out.append(repr(type(row)))
            continue
        out.append({str(k): (float(v) if isinstance(v, (int, float, torch.Tensor)) and (
            not isinstance(v, torch.Tensor) or v.numel() == 1) else repr(type(v))) for k, v in row.items()})
    return out


def train_separable(impl, x_train, y_train, x_valid, y_valid, n_classes, *, seed, bs=16, lr=0.1, n_epoch=3,
                    hidden=8, device="cpu"):
    """``make_dls`` on the given data, a ``Sequential(Linear(n_features, hidden), Linear(hidden, n_classes))``,
    ``Learner(..., cross_entropy, lr).fit(n_epoch)``.

    The graders draw the data (a separable task whose features have large offsets and scales:
    without normalisation SGD diverges) and score the returned weights themselves, on new items
    of the same task that never come here. Returns the weights as a ``state_dict`` of the
    published structure (``0.weight``, ``0.bias``, ``1.weight``, ``1.bias``, as ``nn.Sequential`` of
    two ``nn.Linear`` would name them) and the history.
    """
    n_features = x_train.shape[1]
    dls = impl.make_dls(x_train.to(device), y_train.to(device), x_valid.to(device), y_valid.to(device), bs,
                        seed=seed)
    l1, l2 = impl.Linear(n_features, hidden), impl.Linear(hidden, n_classes)
    for layer in (l1, l2):
        for p in layer.parameters():
            p.data = p.data.to(device)
    learn = impl.Learner(impl.Sequential(l1, l2), dls, impl.cross_entropy, lr)
    history = learn.fit(n_epoch)
    state = {f"{i}.{name}": _plain(getattr(layer, name)) for i, layer in enumerate((l1, l2))
             for name in ("weight", "bias")}
    return {"state": state, "history": _history(history)}
