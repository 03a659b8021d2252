"""A Learner with callbacks, from scratch / Ein Learner mit Callbacks, von Grund auf.

fastai's ``Learner`` is a small training loop that *announces* what it is doing. At every step it
calls an **event** (Ereignis) on each callback: ``before_batch``, ``after_pred``, ``after_loss`` …
A callback is an object with methods named after events; it can read and change the Learner
(``self.learn.loss``) and it can **cancel** part of the loop by raising an exception.

The loop, with every event in the order fastai calls it::

    after_create                               (once, at the end of Learner.__init__)
    before_fit
      for epoch in range(n_epoch):
        before_epoch
          before_train                         (model.train(), training = True)
            for iter, (xb, yb) in enumerate(dls.train):
              before_batch
                pred = model(xb)            -> after_pred
                loss = loss_func(pred, yb)  -> after_loss
                before_backward; loss.backward(); after_backward      (training only)
                before_step;     opt.step();      after_step          (training only)
                opt.zero_grad()                                        (training only)
              after_batch
          after_train
          before_validate                      (model.eval(), training = False, torch.no_grad())
            the same batch loop over dls.valid: no backward, no step
          after_validate
        after_epoch
    after_fit

**Cancelling** (Abbrechen). Each bracket ``before_X … after_X`` is run by one helper, as fastai's
``Learner._with_events``::

    try:
        call before_X; run the body
    except CancelXException:
        call after_cancel_X
    call after_X                 # runs after a cancel too, but not after any other exception

with X and its exception: ``batch`` (CancelBatchException), ``train`` (CancelTrainException),
``validate`` (CancelValidException), ``epoch`` (CancelEpochException), ``fit`` (CancelFitException),
``backward`` (CancelBackwardException: brackets only ``loss.backward()``) and ``step``
(CancelStepException: brackets only ``opt.step()``). Any other exception propagates unchanged.

Rules the checks enforce (they compare your event trace with fastai's own ``Learner``):

- An event is called on **every** callback that defines a method of that name, sorted by the
  callback's ``order`` (smaller first; callbacks with equal ``order`` keep the order they were
  given). ``cb.learn`` is set to the Learner before any event.
- The Learner exposes fastai's names: ``model, dls, loss_func, opt, lr, n_epoch, epoch, iter,
  n_iter, xb, yb, pred, loss, training`` (``n_iter`` = number of batches of the current loop).
- ``opt = opt_func(params, lr)`` (the model's parameters, the learning rate) is created by
  ``fit``; it has ``step()`` and ``zero_grad()``.
- Validation runs under ``torch.no_grad()`` with ``model.eval()`` and never calls backward or step.
- ``dls`` has ``.train`` and ``.valid``: iterables of ``(xb, yb)`` batches.

Forbidden (verboten): anything from fastai (``fastai.learner.Learner``, ``fastai.callback``…),
subclassing or wrapping it, and indirect imports. Plain torch is fine.
"""

from __future__ import annotations

import typing as t

import torch

#: Every event a Learner calls, in the order of one normal training step (cancel events aside).
EVENTS = ("after_create before_fit before_epoch before_train before_batch after_pred after_loss "
          "before_backward after_backward before_step after_step after_batch after_train "
          "before_validate after_validate after_epoch after_fit").split()


class CancelBatchException(Exception):
    """Skip the rest of this batch: ``after_cancel_batch``, then ``after_batch``."""


class CancelTrainException(Exception):
    """Skip the rest of the training loop of this epoch."""


class CancelValidException(Exception):
    """Skip the rest of the validation loop of this epoch."""


class CancelEpochException(Exception):
    """Skip the rest of this epoch."""


class CancelFitException(Exception):
    """Stop training."""


class CancelStepException(Exception):
    """Skip the optimizer step of this batch."""


class CancelBackwardException(Exception):
    """Skip the backward pass of this batch."""


class Callback:
    """Base class for callbacks: subclasses define methods named after events.

    ``order`` sorts callbacks (smaller runs first); ``learn`` is set by the Learner.
    """

    order: int = 0
    learn: t.Any = None


class Learner:
    """Train ``model`` on ``dls`` with ``loss_func`` and ``opt_func(params, lr)``, calling ``cbs``.

    :param model: an ``nn.Module``.
    :param dls: has ``.train`` and ``.valid``, iterables of ``(xb, yb)``.
    :param loss_func: ``loss_func(pred, yb) -> loss`` (a scalar tensor).
    :param opt_func: ``opt_func(params, lr)`` returns an optimizer with ``step()`` and ``zero_grad()``.
    :param lr: the learning rate.
    :param cbs: callbacks (instances of :class:`Callback` subclasses).
    """

    def __init__(self, model: torch.nn.Module, dls: t.Any, loss_func: t.Callable[..., t.Any],
                 opt_func: t.Callable[..., t.Any], lr: float = 1e-2, cbs: t.Sequence[Callback] = ()) -> None:
        self.model, self.dls, self.loss_func, self.opt_func, self.lr = model, dls, loss_func, opt_func, lr
        self.opt: t.Any = None
        self.training = False
        self.n_epoch, self.epoch, self.iter, self.n_iter = 1, 0, 0, 0
        self.xb: t.Any = None
        self.yb: t.Any = None
        self.pred: t.Any = None
        self.loss: t.Any = None
        self.cbs: list[Callback] = []
        for cb in cbs:
            cb.learn = self
            self.cbs.append(cb)
        self("after_create")

    def __call__(self, event: str) -> None:
        """Call ``event`` on every callback that has it, sorted by ``order`` (stable)."""
        for cb in sorted(self.cbs, key=lambda c: getattr(c, "order", 0)):
            method = getattr(cb, event, None)
            if method is not None:
                method()

    def _with_events(self, body: t.Callable[[], None], name: str, cancel: type[Exception]) -> None:
        """``before_<name>``, ``body()``; on ``cancel``: ``after_cancel_<name>``; then ``after_<name>``."""
        try:
            self(f"before_{name}")
            body()
            self(f"after_{name}")
        except cancel:
            self(f"after_cancel_{name}")

    def one_batch(self, i: int, batch: t.Any) -> None:
        """Run one batch (forward, loss and, when training, backward, step and zero_grad)."""
        self.iter = i
        self.xb, self.yb = batch
        self._with_events(self._do_one_batch, "batch", CancelBatchException)

    def _do_one_batch(self) -> None:
        self.pred = self.model(self.xb)
        self("after_pred")
        self.loss = self.loss_func(self.pred, self.yb)
        self("after_loss")
        if not self.training:
            return
        self._with_events(self.loss.backward, "backward", CancelBackwardException)
        self._with_events(self.opt.step, "step", CancelStepException)
        self.opt.zero_grad()

    def all_batches(self, dl: t.Any) -> None:
        """Every batch of ``dl`` (sets ``n_iter``)."""
        self.n_iter = len(dl)
        for i, batch in enumerate(dl):
            self.one_batch(i, batch)

    def _do_epoch(self) -> None:
        self.model.train()
        self.training = True
        self._with_events(lambda: self.all_batches(self.dls.train), "train", CancelTrainException)
        self.model.eval()
        self.training = False
        with torch.no_grad():
            self._with_events(lambda: self.all_batches(self.dls.valid), "validate", CancelValidException)

    def fit(self, n_epoch: int) -> None:
        """Train for ``n_epoch`` epochs (creates the optimizer, calls every event)."""
        self.n_epoch = n_epoch
        self.opt = self.opt_func(list(self.model.parameters()), self.lr)

        def do_fit() -> None:
            for epoch in range(n_epoch):
                self.epoch = epoch
                self._with_events(self._do_epoch, "epoch", CancelEpochException)

        self._with_events(do_fit, "fit", CancelFitException)
