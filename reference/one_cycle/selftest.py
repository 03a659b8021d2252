"""Self-test of the reference: ``python -m reference.one_cycle.selftest`` (from the repo root).

Runs a real ``Learner.fit_one_cycle`` (a one-weight model, fastai's default optimizer Adam, whose
``mom`` hyper-parameter is the scheduled momentum) and compares the learning rates and momenta
fastai's ``ParamScheduler`` recorded for every batch with ``reference.one_cycle`` (batch i at
pos i/n_iter). Not a check (the grader does not collect it); run it after upgrading fastai.
"""

from __future__ import annotations

import tempfile
import warnings

import torch

from reference.one_cycle.reference import one_cycle


def fastai_one_cycle(n_batches, n_epoch, lr_max, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastai.data.core import DataLoaders
        from fastai.data.load import DataLoader
        from fastai.learner import Learner
        import fastai.callback.progress  # noqa: F401  (Learner.no_bar)
        import fastai.callback.schedule  # noqa: F401  (Learner.fit_one_cycle)

        ds = [(torch.zeros(1), torch.zeros(1))] * n_batches
        dls = DataLoaders(DataLoader(ds, bs=1), DataLoader(ds[:1], bs=1))
        with tempfile.TemporaryDirectory() as d:
            learn = Learner(dls, torch.nn.Linear(1, 1), loss_func=torch.nn.MSELoss(), path=d)
            with learn.no_bar(), learn.no_logging():
                learn.fit_one_cycle(n_epoch, lr_max, **options)
    return [float(v) for v in learn.recorder.hps["lr"]], [float(v) for v in learn.recorder.hps["mom"]]


def main() -> None:
    problems = 0
    for n_batches, n_epoch, lr_max, options in [(10, 1, 1e-2, {}), (7, 3, 3e-3, dict(pct_start=0.3)),
                                                (25, 2, 1e-3, dict(div=10.0, div_final=1e4, moms=(0.9, 0.8, 0.99)))]:
        f_lrs, f_moms = fastai_one_cycle(n_batches, n_epoch, lr_max, **options)
        r_lrs, r_moms = one_cycle(n_batches * n_epoch, lr_max, **options)
        ok = len(f_lrs) == len(r_lrs) and all(abs(a - b) <= 1e-5 * max(abs(b), 1e-5 * lr_max)
                                              for a, b in zip(f_lrs + f_moms, r_lrs + r_moms))
        problems += not ok
        print(f"{'ok  ' if ok else 'DIFF'} {n_batches} batches x {n_epoch} epochs, lr_max {lr_max}, {options}")
    print("all agree" if not problems else f"{problems} runs differ")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
