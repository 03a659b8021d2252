"""Exercise `callbacks`: fastai's training loop with callbacks, from scratch."""

from .callbacks import (
    EVENTS,
    Callback,
    CancelBackwardException,
    CancelBatchException,
    CancelEpochException,
    CancelFitException,
    CancelStepException,
    CancelTrainException,
    CancelValidException,
    Learner,
)

__all__ = ["EVENTS", "Callback", "CancelBackwardException", "CancelBatchException", "CancelEpochException",
           "CancelFitException", "CancelStepException", "CancelTrainException", "CancelValidException", "Learner"]
