"""Mistake: parameters() returns copies of the parameters (detached clones), so an optimizer steps the
copies and the model never changes (shapes, count and requires_grad all look right)."""

_solution_parameters = Module.parameters


def _copies(self):
    return [Parameter(p.detach().clone()) for p in _solution_parameters(self)]


Module.parameters = _copies
