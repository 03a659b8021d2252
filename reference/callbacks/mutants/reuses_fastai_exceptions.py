"""Mistake: re-exports fastai's cancel exceptions and Callback instead of writing them."""

from fastai.callback.core import Callback, CancelBatchException, CancelFitException  # noqa: F401,E402
