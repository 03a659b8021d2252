"""Mistake: parameters() returns only the module's own Parameter attributes, not those of its children."""

_SolutionModule = Module


def _own_parameters(self):
    return [v for v in vars(self).values() if isinstance(v, Parameter)]


Module.parameters = _own_parameters
