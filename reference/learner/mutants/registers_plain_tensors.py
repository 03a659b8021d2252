"""Mistake: parameters() also returns plain tensor attributes (only Parameters are parameters)."""

_solution_parameters = Module.parameters


def _with_tensors(self):
    extra = [v for v in vars(self).values() if isinstance(v, torch.Tensor) and not isinstance(v, Parameter)]
    return _solution_parameters(self) + extra


Module.parameters = _with_tensors
