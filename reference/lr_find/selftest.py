"""Self-test of the trusted implementation: ``python -m reference.lr_find.selftest`` (from the repo root).

Runs a *real* fastai ``Learner.lr_find`` (a one-weight model whose loss function asks the scripted
trainer for the loss of the current learning rate; ``save``/``load`` call ``save_state``/
``restore_state``) and compares it with ``implementation.py`` on every loss script: the
learning rates, the smoothed losses (fastai smooths in float32, hence rtol 1e-5), the calls to
the trainer, the suggestion window and valley/minimum/steep. Not a check (the grader does not
collect it: it takes seconds); run it after changing implementation.py or upgrading fastai.
"""

from __future__ import annotations

import math
import tempfile
import warnings

import torch

from reference.lr_find import implementation as imp
from reference.lr_find.reference import scenarios


def fastai_lr_find(trainer, num_it=100, **options):
    """Learner.lr_find on a stand-in model; returns (lrs, losses, window, suggestions)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastai.callback.schedule import minimum, steep, valley
        from fastai.data.core import DataLoaders
        from fastai.data.load import DataLoader
        from fastai.learner import AvgSmoothLoss, Learner

        holder, window = {}, {}

        def loss_func(pred, yb):
            raw = trainer.train_step(holder["learn"].opt.hypers[-1]["lr"])
            return torch.tensor(raw, dtype=torch.float32) + 0 * pred.sum()

        class ScriptLearner(Learner):
            def save(self, file, **kw):
                trainer.save_state()
                return super().save(file, **kw)

            def load(self, file, **kw):
                trainer.restore_state()
                return super().load(file, **kw)

        def capture(lrs, losses, n):
            window["lrs"], window["losses"] = lrs.tolist(), losses.tolist()
            return valley(lrs, losses, n)

        ds = [(torch.zeros(1), torch.zeros(1))] * num_it
        dls = DataLoaders(DataLoader(ds, bs=1), DataLoader(ds[:1], bs=1))
        with tempfile.TemporaryDirectory() as d:
            learn = ScriptLearner(dls, torch.nn.Linear(1, 1), loss_func=loss_func, path=d)
            holder["learn"] = learn
            learn.recorder.smooth_loss = AvgSmoothLoss(beta=options.get("beta", 0.98))
            with learn.no_bar(), learn.no_logging():
                out = learn.lr_find(num_it=num_it, show_plot=False, suggest_funcs=(capture, minimum, steep),
                                    **{k: v for k, v in options.items() if k != "beta"})
    lrs = [float(v) for v in learn.recorder.lrs]
    losses = [float(v) for v in learn.recorder.losses]
    return lrs, losses, window, tuple(float(v) for v in out)


def close(a, b, rtol):
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or abs(x - y) <= rtol * abs(y)
                                    for x, y in zip(a, b))


def main() -> None:
    sc = scenarios()
    problems = 0
    for script in sc.SCRIPTS:
        for seed in range(4):
            for options in ({}, dict(num_it=60, beta=0.9), dict(stop_div=False, num_it=80)):
                num_it = options.get("num_it", 100)
                t1 = sc.ScriptedTrainer(script, seed)
                f_lrs, f_losses, f_window, f_sugg = fastai_lr_find(t1, **options)
                t2 = sc.ScriptedTrainer(script, seed)
                i_lrs, i_losses = imp.lr_find(t2, **options)
                w_lrs, w_losses = imp.suggestion_window(i_lrs, i_losses, num_it)
                ok = (close(i_lrs, f_lrs, 1e-12) and close(i_losses, f_losses, 1e-5)
                      and [c[0] for c in t1.calls] == [c[0] for c in t2.calls]
                      and close(w_lrs, f_window.get("lrs", []), 1e-6))
                if len(w_lrs) >= 2:
                    mine = (imp.suggest_valley(w_lrs, w_losses), imp.suggest_minimum(w_lrs, w_losses),
                            imp.suggest_steep(w_lrs, w_losses))
                    ok = ok and close(list(mine), list(f_sugg), 1e-6)
                problems += not ok
                print(f"{'ok  ' if ok else 'DIFF'} {script:9} seed {seed} {options} batches {len(i_lrs)}/{len(f_lrs)}")
    print("all agree" if not problems else f"{problems} runs differ")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
