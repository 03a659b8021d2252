"""Compare ``implementation.py`` with the real ``fastai.vision.learner`` (not a check; run by hand).

    .venv/bin/python -m reference.cnn_learner.verify_against_fastai

``implementation.py`` restates fastai's ``create_body``/``create_head``/``create_vision_model``
and ``Learner.freeze`` so that the checks need not import ``fastai.vision.learner`` (torchvision
and torch._dynamo: several CPU seconds). This script builds what the checks build with both, on
several seeds, with the same weights, and asserts equal results: state names and shapes, eval and
training-mode outputs, the splitter's groups, SGD steps after ``Learner.freeze()``.
"""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from pathlib import Path

import torch

from grader._seeding import deterministic
from grader.scenarios import as_data
from reference.cnn_learner import implementation as mine
from reference.cnn_learner.reference import random_state, randomize_

SCENARIOS = Path(__file__).resolve().parents[2] / "checks" / "cnn_learner" / "scenarios.py"


def _load_scenarios():
    spec = importlib.util.spec_from_file_location("cnn_learner_scenarios_verify", SCENARIOS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fastai_api():
    """The exercise's API on the real fastai.vision.learner (create_vision_model needs an arch)."""
    from fastai.learner import Learner
    from fastai.vision import learner as fv

    def create_cnn_model(model, n_out, cut=None, **options):
        return fv.create_vision_model(lambda pretrained=False: model, n_out, pretrained=False, cut=cut, **options)

    def freeze_body(model, train_bn=True):
        learn = Learner(None, model, loss_func=torch.nn.functional.cross_entropy, splitter=fv.default_split,
                        train_bn=train_bn)
        learn.freeze()
        return model

    return types.SimpleNamespace(
        create_body=lambda model, cut=None: fv.create_body(model, 3, False, cut),
        create_head=fv.create_head, create_cnn_model=create_cnn_model, freeze_body=freeze_body,
        cnn_splitter=lambda m: [list(g) for g in fv.default_split(m)])


def _same(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), (path, a.keys(), b.keys())
        for k in a:
            _same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), (path, (a.double() - b.double()).abs().max())
    else:
        assert a == b, (path, a, b)


def _head(impl, seed, nf, n_out, **options):
    """create_head: state names/shapes, eval and training-mode outputs with weights drawn from the seed."""
    head = impl.create_head(nf, n_out, **options)
    head.load_state_dict(random_state(head.state_dict(), seed))
    x = torch.randn(6, nf, 4, 3, generator=torch.Generator().manual_seed(seed))
    with deterministic(seed):
        train = S.forward_train(impl, seed=seed, module=head, x=x)
    return {"shapes": {k: list(v.shape) for k, v in head.state_dict().items()}, "train": train,
            "eval": S.forward_eval(impl, seed=seed, module=head, x=x)}


def _body(impl, seed, arch, cut):
    model = randomize_(S.make_arch(arch, seed), seed)
    body = impl.create_body(model, S.keep_three if cut == "callable" else cut)
    x = torch.randn(2, 3, 20, 18, generator=torch.Generator().manual_seed(seed))
    return {"state": body.state_dict(), "out": S.forward_eval(impl, seed=seed, module=body, x=x)}


def _model(impl, seed, arch, n_out=3, c_in=3, freeze=None, steps=0, **options):
    """create_cnn_model on a model with weights from the seed (head weights too), then optionally
    freeze_body and SGD steps through the scenario the checks use, and the splitter's groups."""
    model = randomize_(S.make_arch(arch, seed, c_in), seed)
    cnn = impl.create_cnn_model(model, n_out, **options)
    shapes = {k: list(v.shape) for k, v in cnn.state_dict().items()}
    cnn.load_state_dict(random_state(cnn.state_dict(), seed + 1))
    if freeze is not None:
        impl.freeze_body(cnn, train_bn=freeze)
    x = torch.randn(8, c_in, 20, 18, generator=torch.Generator().manual_seed(seed))
    y = torch.randint(0, n_out, (8,), generator=torch.Generator().manual_seed(seed))
    out = {"shapes": shapes, "eval": S.forward_eval(impl, seed=seed, module=cnn, x=x),
           "groups": impl.cnn_splitter(cnn)}
    if steps:
        with deterministic(seed):
            out["steps"] = S.sgd_steps(impl, seed=seed, model=cnn, x=x, y=y, lrs=(0.05, 0.2), steps=steps,
                                       split=True, train_mode=True)
    return out


CASES = [
    (_head, dict(nf=16, n_out=3)),
    (_head, dict(nf=7, n_out=5, lin_ftrs=[20, 10], ps=0.4, bn_final=True)),
    (_head, dict(nf=7, n_out=5, lin_ftrs=[24], ps=[0., 0.3], first_bn=False, concat_pool=False)),
    (_head, dict(nf=9, n_out=2, lin_ftrs=[], ps=0.2)),
    (_body, dict(arch="resnet", cut=-2)), (_body, dict(arch="resnet", cut=None)),
    (_body, dict(arch="vgg", cut=None)), (_body, dict(arch="twopools", cut=None)),
    (_body, dict(arch="resnet", cut="callable")), (_body, dict(arch="resnet", cut=4)),
    (_model, dict(arch="resnet")), (_model, dict(arch="vgg", n_out=4, concat_pool=False)),
    (_model, dict(arch="twopools", n_out=2, lin_ftrs=[16], bn_final=True, ps=0.3)),
    (_model, dict(arch="resnet", c_in=1)), (_model, dict(arch="resnet", c_in=4)),
    (_model, dict(arch="resnet", freeze=True, steps=1)), (_model, dict(arch="vgg", freeze=False, steps=1)),
    (_model, dict(arch="twopools", freeze=True, steps=3)), (_model, dict(arch="resnet", steps=3)),
]

S = _load_scenarios()


def main() -> None:
    warnings.simplefilter("ignore")
    fastai = _fastai_api()
    for function, options in CASES:
        for seed in (1, 2, 3):
            a = as_data(function(mine, seed, **options))
            b = as_data(function(fastai, seed, **options))
            _same(a, b, f"{function.__name__}{options} seed {seed}")
        print(f"{function.__name__} {options}: implementation == fastai.vision.learner")
    print("implementation.py agrees with fastai.vision.learner and Learner.freeze")


if __name__ == "__main__":
    sys.exit(main())
