"""Mistake: cross_entropy hands the work to torch's F.cross_entropy (forbidden)."""

import torch.nn.functional as F


def cross_entropy(logits, targets):
    return F.cross_entropy(logits, targets)
