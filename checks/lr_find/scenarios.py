"""Scenarios for `lr_find`: a scripted trainer, and a run of your `lr_find` against it.

The checks cannot send a trainer object to your code, so the scenario builds it next to your code:
``ScriptedTrainer`` plays a training run whose loss is a made-up function of the learning rate (a
*loss script*: falling, noisy, diverging, or turning NaN), with random shape and noise drawn from
``script_seed``. The loss also depends on how far the model has been trained (``trained``: one more
batch per ``train_step``; ``save_state``/``restore_state`` save and restore it), so a second
``lr_find`` on the same trainer shows whether the first one put the model back where it was. It
records every call your code makes (for the public checks' messages). The checks run the same
scenario against fastai's LRFinder and compare the two runs step by step.
"""

from __future__ import annotations

import math
import random

SCRIPTS = ("falling", "noisy", "diverging", "nan", "realistic")


class ScriptedTrainer:
    """``train_step(lr)`` returns the next loss of a script; ``save_state``/``restore_state`` work on ``trained``.

    ``trained`` is the model's state: the number of batches it has been trained for (it starts at a
    number drawn from ``script_seed``; every ``train_step`` adds one, and the loss falls a little
    with it). ``save_state()`` remembers it, ``restore_state()`` goes back to what was saved (and
    does nothing when nothing was saved). The noise goes on from call to call, like the batches of
    a data loader, whatever is saved or restored.

    ``calls`` lists every call in order: ``["save"]``, ``["step", lr, loss]``, ``["restore"]``.
    """

    def __init__(self, script: str, script_seed: int, start_lr: float = 1e-7, end_lr: float = 10.0) -> None:
        if script not in SCRIPTS:
            raise ValueError(f"unknown loss script {script!r}")
        rng = random.Random(script_seed)
        self.script = script
        self.calls: list[list] = []
        self.trained = rng.randint(20, 200)                # batches the model was trained for before
        self._saved: int | None = None
        self._rng = random.Random(rng.randrange(2**32))  # noise, drawn call after call
        lo, hi = math.log10(start_lr), math.log10(end_lr)
        span = hi - lo
        self.base = rng.uniform(1.5, 3.0)                  # loss at tiny learning rates
        self.drop = rng.uniform(0.5, 0.85)                 # fraction of the loss that training removes
        self.center = lo + span * rng.uniform(0.35, 0.6)   # log10(lr) where the loss falls fastest
        self.width = span * rng.uniform(0.04, 0.09)
        self.steep = rng.uniform(3.0, 6.0) / (span / 8)    # how fast the divergence grows
        self.noise = {"falling": 0.005, "noisy": 0.15, "diverging": 0.03, "nan": 0.03, "realistic": 0.04}[script]
        if script == "falling":                             # never diverges within [start_lr, end_lr]
            self.diverge = hi + span * 0.25
        elif script == "diverging":                         # diverges in the middle of the range
            self.diverge = lo + span * rng.uniform(0.6, 0.75)
        else:                                               # diverges near the end
            self.diverge = hi - span * rng.uniform(0.05, 0.15)
        self.nan_from = hi - span * rng.uniform(0.1, 0.25) if script == "nan" else math.inf

    def loss_at(self, lr: float, trained: int, noise: float) -> float:
        """The loss of one batch at learning rate ``lr`` for a model trained ``trained`` batches."""
        x = math.log10(lr)
        if x >= self.nan_from:
            return math.nan
        falling = 1.0 - self.drop / (1.0 + math.exp(-(x - self.center) / self.width))
        blowup = math.exp(min(self.steep * (x - self.diverge), 50.0))
        progress = 1.0 - 0.001 * trained
        # a small ripple in log(lr): a batch trained at another learning rate than recorded shows
        ripple = 1.0 + 0.004 * math.sin(1000.0 * math.log(lr))
        return self.base * (falling * progress + blowup) * ripple * max(0.05, 1.0 + self.noise * noise)

    def train_step(self, lr):
        lr = float(lr)
        loss = self.loss_at(lr, self.trained, self._rng.gauss(0.0, 1.0))
        self.trained += 1
        self.calls.append(["step", lr, loss])
        return loss

    def save_state(self):
        self._saved = self.trained
        self.calls.append(["save"])

    def restore_state(self):
        if self._saved is not None:
            self.trained = self._saved
        self.calls.append(["restore"])


def run_lr_find(impl, *, script, script_seed, seed=None, runs=1, **options):
    """``impl.lr_find(trainer, **options)`` ``runs`` times on one ``ScriptedTrainer``.

    Returns ``{"result": first result, "results": [every result], "calls": the trainer's calls}``.
    Each run starts from the state the one before left behind: with ``save_state``/``restore_state``
    in the right places, that is the state the first one started from. ``seed`` is the grader's
    run seed; the loss script depends on ``script_seed`` only.
    """
    trainer = ScriptedTrainer(script, script_seed, options.get("start_lr", 1e-7), options.get("end_lr", 10.0))
    results = [impl.lr_find(trainer, **options) for _ in range(runs)]
    return {"result": results[0], "results": results, "calls": trainer.calls}


def lr_find_with_suggestions(impl, *, script, script_seed, num_it=100, seed=None):
    """``lr_find`` with the defaults, then the window and the three suggestions (for the plot)."""
    trainer = ScriptedTrainer(script, script_seed)
    lrs, losses = impl.lr_find(trainer, num_it=num_it)
    out = {"lrs": lrs, "losses": losses, "suggestions": {}, "errors": {}}
    try:
        w_lrs, w_losses = impl.suggestion_window(lrs, losses, num_it)
    except Exception as exc:  # the plot is still drawn, without the suggestions
        out["errors"]["suggestion_window"] = f"{type(exc).__name__}: {exc}"
        return out
    for name in ("valley", "minimum", "steep"):
        try:
            out["suggestions"][name] = getattr(impl, f"suggest_{name}")(w_lrs, w_losses)
        except Exception as exc:
            out["errors"][name] = f"{type(exc).__name__}: {exc}"
    return out
