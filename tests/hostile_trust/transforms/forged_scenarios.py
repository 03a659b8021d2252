"""Appended to the stub of transforms.py (every method raises NotImplementedError): at import, the
worker's scenario runner is replaced by one that runs every public scenario with a private
implementation (``_private.py``, next to it) whose Pipeline is fasttransform's and whose TfmdLists
and Categorize are fastai's, so the scenarios return correct, freshly computed data while the
package's own API does no work. The lineage report is forged to look home-made. Expected: 0 points.
"""

import sys as _sys

from . import _private

_PLAIN = {"Pipeline": ["transforms.transforms.Pipeline", "builtins.object"],
          "TfmdLists": ["transforms.transforms.TfmdLists", "builtins.object"]}

for _worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
    _Worker = getattr(_worker, "_Worker", None)
    if _Worker is None or "_forged_transforms" in vars(_Worker):
        continue
    _Worker._forged_transforms = True

    def _run(self, header, package, args, kwargs, _honest=_Worker.run_scenario):
        if getattr(package, "__name__", None) != __package__:
            return _honest(self, header, package, args, kwargs)
        if header["path"][0] == "lineage":
            return _PLAIN
        return _honest(self, header, _private, args, kwargs)

    _Worker.run_scenario = _run
