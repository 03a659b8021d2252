"""Exercise `callbacks`: fastai's training loop with callbacks, from scratch."""

from .callbacks import (
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

__all__ = ["Callback", "CancelBackwardException", "CancelBatchException", "CancelEpochException",
           "CancelFitException", "CancelStepException", "CancelTrainException", "CancelValidException", "Learner"]
