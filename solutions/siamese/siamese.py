"""A Siamese network from scratch / Ein siamesisches Netz von Grund auf.

A Siamese model answers "do these two images show the same class?" (fastbook ch. 15, fastai's
Siamese tutorial). Both images go through **one and the same** encoder (shared weights, "geteilte
Gewichte"), the two feature vectors are **concatenated** along the feature axis, and a head turns
them into two logits (different / same)::

    f1 = encoder(x1)                      # (N, F)
    f2 = encoder(x2)                      # (N, F), the same encoder object: same parameters
    logits = head(torch.cat([f1, f2], dim=1))   # (N, 2F) -> (N, 2)

Training uses cross-entropy with the target "same" as a ``torch.long`` class index (0 = different,
1 = same), built from pairs of indices drawn so that about half of them are same-class pairs.

What the checks require:

* ``SiameseModel(encoder, head)`` stores them as ``self.encoder`` and ``self.head`` (nothing
  else with parameters: ``model.parameters()`` are exactly the encoder's and the head's, so the
  parameter count is encoder + head; never copy the encoder for the second image). ``forward``
  concatenates ``[encoder(x1), encoder(x2)]`` in this order on **dim 1** (not dim 0, not a sum).
  The output keeps the inputs' dtype and device (float64 in, float64 out). Gradients reach the
  encoder through both images.
* ``siamese_splitter(model)`` returns two lists of parameters ``[encoder params, head params]``,
  each in the order ``.parameters()`` gives them (fastai uses such groups for discriminative
  learning rates and for freezing the encoder).
* ``make_pairs(labels, n, seed)``: see its docstring.

Nothing is forbidden here: plain torch is all you need.
"""

from __future__ import annotations

import random
import typing as t

import torch
from torch import nn


class SiameseModel(nn.Module):
    """``head(cat([encoder(x1), encoder(x2)], dim=1))`` with one shared encoder.

    ``encoder`` maps a batch ``(N, ...)`` to features ``(N, F)``; ``head`` maps ``(N, 2F)`` to
    the output, e.g. ``(N, 2)`` logits. Keep them as ``self.encoder`` and ``self.head``.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.encoder, self.head = encoder, head
        # END SOLUTION

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Encode both batches with the one encoder, concatenate on dim 1, apply the head."""
        # BEGIN SOLUTION
        return self.head(torch.cat([self.encoder(x1), self.encoder(x2)], dim=1))
        # END SOLUTION


def siamese_splitter(model: SiameseModel) -> list[list[nn.Parameter]]:
    """Two parameter groups, ``[encoder params, head params]``, as lists (not generators)."""
    # BEGIN SOLUTION
    return [list(model.encoder.parameters()), list(model.head.parameters())]
    # END SOLUTION


def make_pairs(labels: t.Any, n: int, seed: int) -> list[tuple[int, int, bool]]:
    """``n`` random pairs ``(i, j, same)`` of indices into ``labels``; about half are same-class.

    * ``labels``: a list (or 1-d tensor) of class labels with at least two classes.
    * Each pair: pick ``i`` at random; with probability 1/2 make it a same-class pair (``j`` a
      random index with ``labels[j] == labels[i]``), otherwise pick another class at random and
      ``j`` a random index of that class. ``same`` is the Python ``bool``
      ``labels[i] == labels[j]``; ``i`` and ``j`` are Python ``int`` s in ``range(len(labels))``.
    * Deterministic in ``seed`` and nothing else: use your own ``random.Random(seed)`` (not the
      global random state), so the same seed gives the same pairs and different seeds different
      pairs.

    Hint: group the indices by label first (a dict ``label -> [indices]``).
    """
    # BEGIN SOLUTION
    rng = random.Random(seed)
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    by_label: dict[t.Any, list[int]] = {}
    for i, label in enumerate(values):
        by_label.setdefault(label, []).append(i)
    classes = list(by_label)
    pairs = []
    for _ in range(n):
        i = rng.randrange(len(values))
        cls = values[i]
        if rng.random() >= 0.5:
            cls = rng.choice([c for c in classes if c != cls])
        j = rng.choice(by_label[cls])
        pairs.append((i, j, bool(values[i] == values[j])))
    return pairs
    # END SOLUTION
