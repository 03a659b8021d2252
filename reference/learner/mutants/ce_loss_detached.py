"""Mistake: cross_entropy builds a new tensor from the loss value (.item()), cutting it off from autograd."""

_solution_cross_entropy = cross_entropy


def cross_entropy(logits, targets):
    value = _solution_cross_entropy(logits, targets)
    return torch.tensor(value.item(), dtype=logits.dtype, device=logits.device)
