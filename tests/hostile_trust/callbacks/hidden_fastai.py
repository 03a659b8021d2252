"""A Learner that is fastai's own, imported by a computed name (no ``import fastai`` in sight), with
the worker's record of imported modules scrubbed, so that only the source, read by the grader,
shows what it uses. Expected: 0 points."""

import importlib as _importlib
import sys as _sys

_core = _importlib.import_module("fast" + "ai.callback.core")
_learner = _importlib.import_module("fast" + "ai.learner")
_optimizer = _importlib.import_module("fast" + "ai.optimizer")

Callback = _core.Callback
CancelBatchException, CancelTrainException = _core.CancelBatchException, _core.CancelTrainException
CancelValidException, CancelEpochException = _core.CancelValidException, _core.CancelEpochException
CancelFitException, CancelStepException = _core.CancelFitException, _core.CancelStepException
CancelBackwardException = _core.CancelBackwardException


class Learner(_learner.Learner):
    def __init__(self, model, dls, loss_func, opt_func, lr=1e-2, cbs=()):
        super().__init__(dls, model, loss_func=loss_func, lr=lr, cbs=list(cbs),
                         opt_func=lambda params, lr: _optimizer.OptimWrapper(opt=opt_func(list(params), lr)))
        self.remove_cbs(self._grab_cbs(_learner.Recorder))
        self.logger = lambda *a, **k: None


for _worker in {_sys.modules.get("__main__"), _sys.modules.get("grader._worker")} - {None}:
    _Worker = getattr(_worker, "_Worker", None)
    if _Worker is None or "_scrubbed" in vars(_Worker):
        continue
    _Worker._scrubbed = True

    def _handle(self, header, blobs, _honest=_Worker.handle):
        if header.get("op") == "modules":
            return {"ok": True, "value": []}, []
        return _honest(self, header, blobs)

    _Worker.handle = _handle
