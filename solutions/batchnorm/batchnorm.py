"""Batch normalisation from scratch / Stapelnormalisierung (Batch-Normalisierung) von Grund auf.

A ``BatchNorm2d`` layer normalises every channel of a batch of images ``x`` (N, C, H, W) to mean
0 and variance 1, then scales and shifts it with two learnable per-channel vectors::

    mean[c] = mean of x[:, c, :, :]                       (over N, H and W: N*H*W values)
    var[c]  = mean of (x[:, c, :, :] - mean[c])**2         (the *biased* variance: divide by N*H*W)
    y[:, c] = (x[:, c] - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]

``eps`` goes **inside** the square root: a channel that is (nearly) constant then gives
``(x - mean) / sqrt(eps)`` instead of dividing by (almost) zero.

While training, the layer also keeps *running statistics* (gleitende Mittelwerte) for use at
inference time, with PyTorch's momentum convention (``momentum`` is the weight of the *new*
batch, not of the old value)::

    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var_unbiased

where ``var_unbiased = var * n / (n - 1)`` with ``n = N*H*W`` (Bessel's correction, as
``torch.var(unbiased=True)``). Normalising uses the biased ``var``; the running estimate uses the
unbiased one. In evaluation mode (``model.eval()``, ``self.training`` is False) the layer
normalises with ``running_mean`` and ``running_var`` instead, and does not update them.

Forbidden here: ``F.batch_norm``, ``torch.batch_norm``, ``nn.BatchNorm1d/2d/3d`` (not even as a
base class or a wrapped attribute), ``F.instance_norm``, fastai's ``BatchNorm`` and every other
built-in batch or instance norm (the ops under ``torch.ops.aten`` too): using one voids all points
of this exercise. Allowed: ``mean``, ``var``, ``sqrt``, ``rsqrt``, broadcasting.
"""

from __future__ import annotations

import torch
from torch import nn


class BatchNorm2d(nn.Module):
    """Batch normalisation over the channels of (N, C, H, W) inputs, like ``torch.nn.BatchNorm2d``.

    Attributes (the names are part of the exercise: ``state_dict()`` must have the same keys as
    ``nn.BatchNorm2d``'s, except that ``num_batches_tracked`` is optional):

    - ``weight`` and ``bias``: ``nn.Parameter``s of shape (C,), initialised to ones and zeros
      (trainable, so that an optimizer sees them in ``parameters()``).
    - ``running_mean`` and ``running_var``: registered **buffers** (``self.register_buffer``),
      initialised to zeros and ones. Buffers are saved in ``state_dict()`` and follow
      ``.to(device)`` / ``.double()``, but are not parameters. Update them without building an
      autograd graph (under ``torch.no_grad()``, or from ``detach()``-ed statistics).
    - optional: ``num_batches_tracked``, a long buffer counting the training forward passes.

    ``forward(x)`` returns a tensor with the shape, dtype and device of ``x``. Gradients must
    flow through the batch statistics (do not detach the mean or variance you normalise with).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        # BEGIN SOLUTION
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (N, C, H, W) per channel; in training mode also update the running stats.

        Hint: ``x.mean(dim=(0, 2, 3), keepdim=True)`` has shape (1, C, 1, 1) and broadcasts
        against ``x``; reshape per-channel vectors with ``.view(1, -1, 1, 1)``.
        """
        # BEGIN SOLUTION
        if self.training:
            mean = x.mean(dim=(0, 2, 3))
            var = (x - mean.view(1, -1, 1, 1)).pow(2).mean(dim=(0, 2, 3))  # biased: divide by n
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / max(n - 1, 1))
                self.num_batches_tracked.add_(1)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + self.eps)
        return x_hat * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        # END SOLUTION
