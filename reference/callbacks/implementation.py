"""fastai's own Learner behind the exercise's API (trusted process only).

The exercise's ``Learner(model, dls, loss_func, opt_func, lr, cbs)`` takes ``opt_func(params, lr)``
returning any object with ``step``/``zero_grad``; fastai's takes ``(dls, model, ...)`` and needs a
fastai optimizer. This adapter builds a real ``fastai.learner.Learner`` (with its default
``TrainEvalCallback``, which sets training/eval mode, and ``CastToTensor``), wraps the torch
optimizer in fastai's ``OptimWrapper`` and leaves out the logging ``Recorder`` (it prints and has
nothing to do with events).

The callbacks are named here instead of taken from ``fastai.learner.defaults.callbacks``: that list
is global, and importing ``fastai.callback.schedule`` (the lr_find and one_cycle references do, when
a batch grades those exercises in the same process) appends ``ProgressCallback`` to it, whose events
would then be expected from every student.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastai.callback.core import (Callback, CancelBackwardException, CancelBatchException,
                                      CancelEpochException, CancelFitException, CancelStepException,
                                      CancelTrainException, CancelValidException)
    from fastai.callback.core import TrainEvalCallback
    from fastai.learner import CastToTensor
    from fastai.learner import Learner as _FastaiLearner
    from fastai.optimizer import OptimWrapper

__all__ = ["Callback", "CancelBackwardException", "CancelBatchException", "CancelEpochException",
           "CancelFitException", "CancelStepException", "CancelTrainException", "CancelValidException", "Learner"]


def Learner(model, dls, loss_func, opt_func, lr=1e-2, cbs=()):  # noqa: N802 - the exercise's class name
    """A fastai ``Learner`` configured like the exercise's (see the module docstring)."""

    def fastai_opt_func(params, lr):
        return OptimWrapper(opt=opt_func(list(params), lr))

    learn = _FastaiLearner(dls, model, loss_func=loss_func, opt_func=fastai_opt_func, lr=lr,
                           cbs=[TrainEvalCallback(), CastToTensor(), *cbs], default_cbs=False)
    learn.logger = lambda *args, **kwargs: None
    return learn
