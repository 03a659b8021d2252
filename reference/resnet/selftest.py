"""Self-test of the trusted side: ``python -m reference.resnet.selftest`` (from the repo root).

Compares, on random weights (translated by role) and odd, non-square inputs, in training and eval
mode, float32 and float64:

- ``implementation.ResBlock`` and the functional rebuild ``reference.block_forward`` with fastai's
  own ``fastai.layers.ResBlock(1, ni, nf, stride)`` (plain BatchNorm, ReLU);
- ``implementation.ResNet`` with ``reference.resnet_forward``;
- the training scenario against itself on the same seed (bit-equal losses) and its accuracy.

Not a check (the grader does not collect it); run it after changing the trusted side or
upgrading fastai.
"""

from __future__ import annotations

import importlib.util
import warnings

import torch

from reference.resnet import implementation as imp
from reference.resnet import reference as ref


def _fastai_block(ni, nf, stride):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastai.layers import NormType, ResBlock
    return ResBlock(1, ni, nf, stride=stride, norm_type=NormType.Batch, act_cls=torch.nn.ReLU)


def _load_by_role(module, state):
    module.load_state_dict(ref.rename(ref.modules_of(state), ref.modules_of(module.state_dict())))


def check_blocks():
    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
        for ni, nf, stride in [(4, 4, 1), (4, 6, 1), (4, 4, 2), (3, 6, 2)]:
            fastai_block, ours = _fastai_block(ni, nf, stride).to(dtype), imp.ResBlock(ni, nf, stride).to(dtype)
            state = ref.random_state(ours.state_dict(), seed=ni + nf + stride)
            convs, idpath = ref.block_modules(state, ni, nf, stride, "selftest")
            x = torch.randn(3, ni, 9, 6, dtype=dtype)
            for training in (False, True):
                _load_by_role(fastai_block, state)
                ours.load_state_dict(state)
                fastai_block.train(training)
                ours.train(training)
                with torch.no_grad():
                    a, b = fastai_block(x), ours(x)
                c = ref.block_forward(convs, idpath, x.double(), stride, training)
                assert torch.equal(a, b), (ni, nf, stride, training)
                assert (a.double() - c).abs().max() < tol, (ni, nf, stride, training, (a.double() - c).abs().max())
    print("ResBlock: fastai == implementation == functional rebuild")


def check_resnet():
    layers, widths = (2, 1, 2), (4, 8, 8)
    model = imp.ResNet(3, 5, layers, widths)
    state = ref.random_state(model.state_dict(), seed=1)
    modules = ref.resnet_modules(state, 3, 5, layers, widths, "selftest")
    x = torch.randn(2, 3, 17, 23)
    for training in (False, True):
        model.load_state_dict(state)
        model.train(training)
        with torch.no_grad():
            a = model(x)
        c = ref.resnet_forward(modules, layers, widths, x.double(), training)
        assert (a.double() - c).abs().max() < 1e-5 * max(1, c.abs().max()), training
    print("ResNet: implementation == functional rebuild")


def check_training(seeds=range(12)):
    spec = importlib.util.spec_from_file_location("resnet_scenarios", "checks/resnet/scenarios.py")
    scenarios = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scenarios)
    config = dict(n_in=3, n_out=2, layers=(1, 1), widths=(8, 16))
    worst = 1.0
    for seed in seeds:
        model = imp.ResNet(3, 2, (1, 1), (8, 16))
        init = ref.init_state(model.state_dict(), seed)
        x, y = ref.make_stripes(512, 16, 18, seed)
        torch.manual_seed(seed)
        a = scenarios.train(imp, seed=seed, **config, init_state=init, x=x, y=y)
        b = scenarios.train(imp, seed=seed, **config, init_state=init, x=x, y=y)
        assert a["losses"] == b["losses"]
        modules = ref.resnet_modules(a["state"], **config, what="selftest")
        xt, yt = ref.make_stripes(256, 17, 16, seed + 1000)
        with torch.no_grad():
            acc = (ref.resnet_forward(modules, (1, 1), (8, 16), xt.double(), False).argmax(1) == yt).double().mean()
        print(f"training seed {seed}: first losses {[round(v, 4) for v in a['losses'][:3]]}, "
              f"last {a['losses'][-1]:.4f}, test accuracy {float(acc):.3f}")
        worst = min(worst, float(acc))
    print(f"worst test accuracy {worst:.3f} (the check needs 0.9)")
    assert worst >= 0.95


if __name__ == "__main__":
    check_blocks()
    check_resnet()
    check_training()
