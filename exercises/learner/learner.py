"""A Learner from scratch / Ein Learner von Grund auf (fastbook ch. 19).

Everything fastai's ``Learner`` does for a simple classifier, in a few small pieces:

1. **Data**: ``Dataset(x, y)`` gives ``(x[i], y[i])``; ``collate`` stacks a list of such pairs
   into one batch ``(xb, yb)``; ``DataLoader(ds, bs, shuffle, seed)`` yields batches of ``bs``
   items (the last one may be smaller) in order, or shuffled anew every epoch.
2. **Normalisation** (*Normalisierung*): mean and standard deviation **per channel**, computed on
   the **training data only** and applied to training and validation data alike (otherwise the
   validation set leaks into training). ``make_dls`` puts 1. and 2. together.
3. **Model**: ``Parameter`` (a tensor that requires grad), ``Module`` (finds the parameters in
   its attributes, also inside child modules), ``Linear`` and ``Sequential``.
4. **Loss and metric**: ``log_softmax`` with the *logsumexp trick*, ``cross_entropy``, ``accuracy``.
5. **Training loop**: ``Learner(model, dls, loss_func, lr).fit(n_epoch)`` with plain SGD.

Forbidden (from scratch): ``F.cross_entropy``, ``F.log_softmax``, every softmax function
(``torch.softmax``, ``F.softmax``, ``Tensor.log_softmax``, ``nn.LogSoftmax``, ...), ``F.nll_loss``,
``nn.CrossEntropyLoss``, anything from ``torch.utils.data`` (``DataLoader``, ``TensorDataset``,
``default_collate``, ...), ``nn.Module``, ``nn.Parameter``, ``nn.Linear``, ``F.linear``,
``nn.Sequential`` (also not as a base class) and ``fastai``. Tensors, ``torch.stack``,
``torch.randperm``, ``torch.Generator``, autograd (``loss.backward()``) and ``torch.no_grad()``
are allowed.
"""

from __future__ import annotations

import math
import typing as t

import torch


# -- 1. data ---------------------------------------------------------------------------------------
class Dataset:
    """``Dataset(x, y)``: ``len(ds)`` is the number of items, ``ds[i]`` is the pair ``(x[i], y[i])``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise learner)")

    def __len__(self) -> int:
        # TODO: your code here
        raise NotImplementedError("__len__: not implemented yet (exercise learner)")

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        # TODO: your code here
        raise NotImplementedError("__getitem__: not implemented yet (exercise learner)")


def collate(batch: t.Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a list of ``(x_i, y_i)`` pairs into one batch ``(xb, yb)``: the ``x_i`` stacked along
    a new first axis, and the ``y_i`` too (as torch's ``default_collate`` does). Hint: ``zip(*batch)``."""
    # TODO: your code here
    raise NotImplementedError("collate: not implemented yet (exercise learner)")


class DataLoader:
    """``DataLoader(ds, bs, shuffle=False, seed=None)``: iterate over batches of a dataset.

    - ``iter(dl)`` yields ``collate([ds[i] for i in chunk])`` for consecutive chunks of ``bs``
      indices; the last batch holds the rest (it may be smaller; nothing is dropped).
    - ``shuffle=False``: indices in order 0, 1, 2, ... -- the same batches as
      ``torch.utils.data.DataLoader(ds, batch_size=bs)``.
    - ``shuffle=True``: a new random permutation (``torch.randperm``) at the start of **every**
      epoch (every ``iter``), so each item comes exactly once per epoch and epochs differ. With a
      ``seed``, make one ``torch.Generator().manual_seed(seed)`` in ``__init__`` and draw every
      permutation from it: the same seed gives the same sequence of epochs. Without a seed use
      torch's global random generator.
    - ``len(dl)`` is the number of batches, ``ceil(len(ds) / bs)``.
    """

    def __init__(self, ds: Dataset, bs: int, shuffle: bool = False, seed: int | None = None) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise learner)")

    def __len__(self) -> int:
        # TODO: your code here
        raise NotImplementedError("__len__: not implemented yet (exercise learner)")

    def __iter__(self) -> t.Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # TODO: your code here
        raise NotImplementedError("__iter__: not implemented yet (exercise learner)")


class DataLoaders:
    """A training and a validation ``DataLoader``: ``dls.train``, ``dls.valid`` (given)."""

    def __init__(self, train: t.Iterable[t.Any], valid: t.Iterable[t.Any]) -> None:
        self.train, self.valid = train, valid


# -- 2. normalisation ------------------------------------------------------------------------------
def normalize_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of ``x`` (N, C, ...) **per channel** (axis 1).

    Reduce over every axis except the channel axis (N and all spatial axes: for (N, C, H, W)
    that is ``dim=(0, 2, 3)``). Returns ``(mean, std)``, each of shape ``(C,)``, in ``x``'s dtype.
    ``std`` is torch's default, the *unbiased* standard deviation (``x.std(dim=...)``).
    """
    # TODO: your code here
    raise NotImplementedError("normalize_stats: not implemented yet (exercise learner)")


def normalize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std`` per channel: ``x`` is (N, C, ...), ``mean`` and ``std`` are (C,).

    Careful with broadcasting: a (C,) tensor lines up with the **last** axis of ``x``; reshape it
    to (1, C, 1, ..., 1) first. The result has ``x``'s shape, dtype and device.
    """
    # TODO: your code here
    raise NotImplementedError("normalize: not implemented yet (exercise learner)")


def make_dls(x_train: torch.Tensor, y_train: torch.Tensor, x_valid: torch.Tensor, y_valid: torch.Tensor, bs: int,
             seed: int | None = None) -> DataLoaders:
    """Normalised data loaders: ``DataLoaders(train, valid)``.

    Compute the statistics on ``x_train`` **only**, normalise both ``x_train`` and ``x_valid``
    with them, then ``train = DataLoader(Dataset(...), bs, shuffle=True, seed=seed)`` and
    ``valid = DataLoader(Dataset(...), bs)`` (not shuffled).
    """
    # TODO: your code here
    raise NotImplementedError("make_dls: not implemented yet (exercise learner)")


# -- 3. model --------------------------------------------------------------------------------------
class Parameter(torch.Tensor):
    """``Parameter(data)``: a tensor with ``data``'s values that requires grad, and that a
    ``Module`` recognises as a parameter (``isinstance(value, Parameter)``).

    Hint: ``torch.Tensor._make_subclass(cls, data.detach(), True)`` makes a leaf tensor of this
    class that requires grad. (The class attribute below makes results of operations on
    Parameters plain tensors again, as torch's own ``nn.Parameter`` does.)
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, data: torch.Tensor) -> "Parameter":
        # TODO: your code here
        raise NotImplementedError("__new__: not implemented yet (exercise learner)")

    def __repr__(self) -> str:
        return "Parameter containing:\n" + torch.Tensor.__repr__(self.detach())


class Module:
    """Base class of every layer and model (not ``nn.Module``!).

    - ``__call__(*args)`` calls ``self.forward(*args)``; subclasses define ``forward``.
    - ``parameters()`` returns a **list** of every ``Parameter`` of the module: those stored in
      its attributes (``self.weight = Parameter(...)``), and, recursively, all parameters of the
      ``Module`` objects stored in its attributes (children), also inside a list or tuple
      attribute (``self.layers = [Linear(...), ...]``). Each parameter once; plain tensors are
      not parameters. Order: attributes in the order they were first set (like ``nn.Module``).
    - Subclasses call ``super().__init__()`` first in their ``__init__``; ``Module.__init__`` sets up
      whatever bookkeeping your ``parameters()`` needs (possibly none: the attributes are all in
      ``vars(self)``).
    """

    def __init__(self) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise learner)")

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        # TODO: your code here
        raise NotImplementedError("__call__: not implemented yet (exercise learner)")

    def forward(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def parameters(self) -> list[Parameter]:
        # TODO: your code here
        raise NotImplementedError("parameters: not implemented yet (exercise learner)")


class Linear(Module):
    """``Linear(n_in, n_out)``: ``forward(x) = x @ weight.T + bias`` for ``x`` of shape (N, n_in).

    Attributes (Parameters, float32): ``weight`` of shape ``(n_out, n_in)`` (as ``nn.Linear``),
    initialised with ``torch.randn(n_out, n_in) / sqrt(n_in)``, and ``bias`` of shape ``(n_out,)``,
    zeros.
    """

    def __init__(self, n_in: int, n_out: int) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise learner)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: your code here
        raise NotImplementedError("forward: not implemented yet (exercise learner)")


class Sequential(Module):
    """``Sequential(*layers)``: ``forward(x)`` passes ``x`` through the layers in order.

    Layers are Modules or plain functions (e.g. ``torch.relu``, which has no parameters). Its
    parameters are those of all its layers (keep them in a list attribute, e.g. ``self.layers``).
    """

    def __init__(self, *layers: t.Callable[[torch.Tensor], torch.Tensor]) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise learner)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: your code here
        raise NotImplementedError("forward: not implemented yet (exercise learner)")


# -- 4. loss and metric ----------------------------------------------------------------------------
def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably with the logsumexp trick::

        logsumexp(x) = m + log(sum(exp(x - m)))   with m = max(x) along dim
        log_softmax(x) = x - logsumexp(x)

    ``exp(x)`` of logits around 1e4 overflows to inf (even in float64), ``exp(x - m)`` never does.
    Same shape, dtype and device as ``x``.
    """
    # TODO: your code here
    raise NotImplementedError("log_softmax: not implemented yet (exercise learner)")


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the targets: ``logits`` (N, C), ``targets`` (N,) class indices.

    ``-log_softmax(logits)[i, targets[i]]`` (softmax over the classes, axis 1), averaged over the
    N items. A 0-dim tensor in ``logits``' dtype, differentiable (autograd), equal to
    ``F.cross_entropy(logits, targets)``.
    """
    # TODO: your code here
    raise NotImplementedError("cross_entropy: not implemented yet (exercise learner)")


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of items whose largest logit is the target class: a 0-dim float32 tensor."""
    # TODO: your code here
    raise NotImplementedError("accuracy: not implemented yet (exercise learner)")


# -- 5. training loop ------------------------------------------------------------------------------
class Learner:
    """``Learner(model, dls, loss_func, lr)``; ``fit(n_epoch)`` trains with plain SGD.

    Each epoch:

    - **train**: for every batch ``(xb, yb)`` of ``dls.train``: ``loss = loss_func(model(xb), yb)``,
      ``loss.backward()``, then for every parameter ``p`` of ``model.parameters()``:
      ``p -= lr * p.grad`` (under ``torch.no_grad()``) and reset its gradient (zero it or set it to
      None) -- otherwise the gradients of all batches add up.
    - **validate**: under ``torch.no_grad()``, for every batch of ``dls.valid`` compute the loss and
      ``accuracy(pred, yb)``.
    - record ``{'train_loss': ..., 'valid_loss': ..., 'accuracy': ...}`` (Python floats; more keys, such
      as fastai's ``epoch``, are fine), each the **mean over items**, i.e. weighted by batch size:
      ``sum(value_b * len_b) / sum(len_b)``. The training loss is the mean of the losses computed
      during the epoch (before each step). A plain mean of the batch means is wrong when the last
      batch is smaller.

    ``fit`` returns the list of these dicts (one per epoch) and keeps it as ``self.history``
    (a new list for every ``fit``).
    """

    def __init__(self, model: t.Any, dls: t.Any, loss_func: t.Callable[..., torch.Tensor], lr: float) -> None:
        # TODO: your code here
        raise NotImplementedError("__init__: not implemented yet (exercise learner)")

    def fit(self, n_epoch: int) -> list[dict[str, float]]:
        # TODO: your code here
        raise NotImplementedError("fit: not implemented yet (exercise learner)")
