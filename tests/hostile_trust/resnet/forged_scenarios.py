"""Appended to the stub of resnet.py (every function raises NotImplementedError): at import, the
worker's scenario runner is replaced by one that runs every public scenario (the training too) with a
private, correct copy of the solution (``_private.py``, next to it), so the scenarios return correct,
freshly computed data while the package's own API does no work. Expected: 0 points.
"""

from . import _forge, _private

_forge.route_scenarios(__package__, _private)
