"""Matrix product, ReLU and a tiny MLP with hand-written backpropagation / Grundlagen von Grund auf.

This is the "from the foundations" part of the bootcamp (fastbook chapter 17): you build a
two-layer network (ein kleines mehrschichtiges Perzeptron, MLP) out of nothing but elementwise
tensor arithmetic, and compute its gradients yourself with the chain rule (Kettenregel), the way
``loss.backward()`` would.

The network, for a batch of ``n`` samples with ``d`` features and ``h`` hidden units::

    x (n, d) --lin(w1 (d, h), b1 (h,))--> l1 (n, h) --relu--> a1 (n, h)
             --lin(w2 (h, 1), b2 (1,))--> out (n, 1) --mse(·, y (n,))--> loss (a scalar)

Rules (the hidden checks enforce them):

- **From scratch.** Matrix products (Matrixprodukt) go through *your* ``matmul``. Forbidden in the
  whole file: the ``@`` operator (and ``@=``), ``torch.matmul``, ``torch.mm``, ``torch.bmm``,
  ``torch.einsum`` and the other built-in matrix products (``torch.dot``, ``torch.mv``,
  ``torch.tensordot``, ``torch.addmm``, ``F.linear``), however they are reached. Allowed:
  elementwise ``*``, ``+``, ``.sum()``, broadcasting, indexing, ``.t()``/``.T``, Python loops.
- **No autograd.** Gradients are computed by hand: ``torch.autograd``, ``.backward()`` and
  ``torch.func`` are forbidden. The checks also call ``mlp_forward_backward`` inside
  ``torch.inference_mode()``, where autograd cannot work; hand-written gradients don't notice.
- Results keep the dtype and device of the inputs (float32 in, float32 out; float64 in,
  float64 out, accurate to about 1e-9; nothing may be computed in lower precision).

Breaking one of the first two rules costs all points of the exercise; dynamic code (``exec``,
``eval``, ``importlib``, ``__import__``, ``getattr(torch, <computed name>)``) counts as breaking
them, because it hides what is used.
"""

from __future__ import annotations

import torch


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The matrix product ``c = a b`` of ``a`` (n, k) and ``b`` (k, m): a tensor of shape (n, m).

    ``c[i, j] = sum_k a[i, k] * b[k, j]``: row ``i`` of ``a`` times column ``j`` of ``b``.

    Hint (fastbook ch. 17): start with three Python loops, then replace the inner loop by an
    elementwise product and ``.sum()``, and finally let broadcasting do all of it at once:
    ``a[:, :, None]`` has shape (n, k, 1) and ``b[None]`` has shape (1, k, m).

    Forbidden: ``@``, ``torch.matmul``, ``torch.mm``, ``torch.bmm``, ``torch.einsum`` (and the
    other built-in matrix products). Keep the dtype and device of ``a``.
    """
    # TODO: your code here
    raise NotImplementedError("matmul: not implemented yet (exercise basics)")


def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU: ``max(x, 0)`` elementwise, a new tensor with the shape, dtype and device of ``x``.

    Do not modify ``x`` itself (no in-place ``x[x < 0] = 0``): the backward pass still needs it.
    """
    # TODO: your code here
    raise NotImplementedError("relu: not implemented yet (exercise basics)")


def lin(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A linear layer ``x w + b`` for ``x`` (n, in), ``w`` (in, out) and ``b`` (out,): shape (n, out).

    Note the layout: ``w`` is (in, out) here, as in fastbook, *not* (out, in) as in
    ``nn.Linear.weight``. Use your ``matmul``; the bias is broadcast over the batch.
    """
    # TODO: your code here
    raise NotImplementedError("lin: not implemented yet (exercise basics)")


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error (mittlerer quadratischer Fehler) of ``pred`` (n, 1) and ``target`` (n,).

    ``mse = mean over i of (pred[i, 0] - target[i])**2``: a 0-dimensional tensor.

    Careful with broadcasting: ``pred - target`` with shapes (n, 1) and (n,) silently becomes an
    (n, n) matrix of every pair. Squeeze the last axis of ``pred`` first (``pred[:, 0]`` or
    ``pred.squeeze(-1)``), exactly as fastbook's ``mse`` does.
    """
    # TODO: your code here
    raise NotImplementedError("mse: not implemented yet (exercise basics)")


def mlp_forward_backward(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    y: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Forward and backward pass (Vorwärts- und Rückwärtsdurchlauf) of ``lin -> relu -> lin -> mse``.

    Shapes: ``x`` (n, d), ``w1`` (d, h), ``b1`` (h,), ``w2`` (h, 1), ``b2`` (1,), ``y`` (n,).

    Returns ``(loss, grads)``: ``loss`` is the 0-dimensional mse of the network's output and
    ``y``; ``grads`` is a dict with the keys ``"w1"``, ``"b1"``, ``"w2"``, ``"b2"`` holding
    d loss / d parameter, each with the shape of its parameter. They must equal what
    ``loss.backward()`` would put into ``.grad`` (the checks compare with PyTorch's autograd).

    The chain rule, from the loss back to the input (``g`` is "gradient of the loss w.r.t."):

    - ``loss = mean_i (out[i, 0] - y[i])**2``, so ``g_out = 2 * (out[:, 0] - y)[:, None] / n``
      (the mean brings the ``1/n``; every gradient below inherits it).
    - for ``out = lin(a, w, b)``: ``g_w = a.T g_out``, ``g_b = g_out`` **summed over the batch**
      (axis 0), and ``g_a = g_out w.T``.
    - for ``a = relu(l)``: ``g_l = g_a`` where ``l > 0`` and ``0`` elsewhere (also at exactly
      ``l == 0``, as PyTorch does).

    Forbidden: autograd (``torch.autograd``, ``.backward()``, ``torch.func``) and built-in
    matrix products; use your ``lin``, ``relu``, ``mse`` and ``matmul``.
    """
    # TODO: your code here
    raise NotImplementedError("mlp_forward_backward: not implemented yet (exercise basics)")


def sgd_step(params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], lr: float) -> dict[str, torch.Tensor]:
    """One step of plain gradient descent (Gradientenabstieg): ``p <- p - lr * g`` for every key.

    ``params`` and ``grads`` are dicts with the same keys (e.g. ``"w1"``, ``"b1"``, ...).
    Update each tensor of ``params`` **in place** (``p -= lr * g``, or ``p.sub_(lr * g)``; wrap it
    in ``torch.no_grad()`` if you ever use it on tensors that require grad) and return the same
    dict ``params``: the caller sees the new values through the returned dict and through its own
    tensors. Do not change ``grads``.
    """
    # TODO: your code here
    raise NotImplementedError("sgd_step: not implemented yet (exercise basics)")
