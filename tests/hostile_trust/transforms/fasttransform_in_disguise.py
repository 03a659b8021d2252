"""Appended to the solution of transforms.py: Pipeline is fasttransform's own Pipeline, reached without
naming it as an attribute (through the globals of Transform's methods), and the worker's ``lineage``
report and module record are forged to look home-made. Every value check passes; the from-scratch
gate (read from the source here) must void them all.
"""

import sys as _sys

import fasttransform.transform as _ft

_Hidden = _ft.Transform.__init__.__globals__["Pipe" "line"]


class Pipeline(_Hidden):  # noqa: F811
    pass


_PLAIN = {"Pipeline": ["transforms.transforms.Pipeline", "builtins.object"],
          "TfmdLists": ["transforms.transforms.TfmdLists", "builtins.object"]}

for _worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
    _Worker = getattr(_worker, "_Worker", None)
    if _Worker is None or "_forged_lineage" in vars(_Worker):
        continue
    _Worker._forged_lineage = True

    def _run(self, header, package, args, kwargs, _honest=_Worker.run_scenario):
        if header["path"][0] == "lineage":
            return _PLAIN
        return _honest(self, header, package, args, kwargs)

    def _handle(self, header, blobs, _honest=_Worker.handle):
        if header.get("op") == "modules":
            return {"ok": True, "value": []}, []
        return _honest(self, header, blobs)

    _Worker.run_scenario, _Worker.handle = _run, _handle
