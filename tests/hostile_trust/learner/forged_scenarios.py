"""Appended to the stub of learner.py (every function raises NotImplementedError): at import, the
worker's scenario runner is replaced by one that runs every public scenario with a private
implementation on torch's own classes (``_private.py``, next to it: nn.Module, torch.utils.data,
F.cross_entropy), so the scenarios return correct, freshly computed data, the training too, while
the package's own API does no work. The class-bases report is forged to look home-made.
Expected: 0 points.
"""

import sys as _sys

from . import _private

_PLAIN = {name: [f"learner.learner.{name}", "builtins.object"]
          for name in ("Module", "Linear", "Sequential", "Parameter", "DataLoader", "Dataset")}

for _worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
    _Worker = getattr(_worker, "_Worker", None)
    if _Worker is None or "_forged_learner" in vars(_Worker):
        continue
    _Worker._forged_learner = True

    def _run(self, header, package, args, kwargs, _honest=_Worker.run_scenario):
        if getattr(package, "__name__", None) != __package__:
            return _honest(self, header, package, args, kwargs)
        if header["path"][0] == "class_bases":
            return _PLAIN
        return _honest(self, header, _private, args, kwargs)

    _Worker.run_scenario = _run
