"""Compare ``implementation.py`` with the real ``fastai.vision.learner`` (not a check; run by hand).

    .venv/bin/python -m reference.cnn_learner.verify_against_fastai

``implementation.py`` restates fastai's ``create_body``/``create_head``/``create_vision_model``
and ``Learner.freeze`` so that the checks need not import ``fastai.vision.learner`` (torchvision
and torch._dynamo: several CPU seconds). This script runs every scenario the checks use against
both, on several seeds, and asserts equal results; it also compares ``Learner.freeze()``'s
``requires_grad`` flags and the head's kaiming init statistics.
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


CASES = [
    ("head_layout", dict(nf=16, n_out=3)),
    ("head_layout", dict(nf=7, n_out=5, lin_ftrs=[20, 10], ps=0.4, bn_final=True)),
    ("head_layout", dict(nf=7, n_out=5, lin_ftrs=[24], ps=[0., 0.3], first_bn=False, concat_pool=False)),
    ("head_layout", dict(nf=9, n_out=2, lin_ftrs=[], ps=0.2)),
    ("body_layout", dict(arch="resnet", cut=-2)), ("body_layout", dict(arch="resnet", cut=None)),
    ("body_layout", dict(arch="vgg", cut=None)), ("body_layout", dict(arch="twopools", cut=None)),
    ("body_layout", dict(arch="resnet", cut="callable")), ("body_layout", dict(arch="resnet", cut=4)),
    ("model_layout", dict(arch="resnet", n_out=3)), ("model_layout", dict(arch="vgg", n_out=4)),
    ("model_layout", dict(arch="twopools", n_out=2, lin_ftrs=[16], bn_final=True, ps=0.3)),
    ("freeze_flags", dict(arch="resnet")), ("freeze_flags", dict(arch="vgg", train_bn=False)),
    ("freeze_flags", dict(arch="twopools", twice=True)),
    ("splitter_names", dict(arch="resnet")), ("splitter_names", dict(arch="vgg")),
    ("train_steps", dict(arch="resnet")), ("train_steps", dict(arch="twopools", freeze=False)),
    ("train_steps", dict(arch="vgg", train_bn=False)),
]


def main() -> None:
    warnings.simplefilter("ignore")
    S = _load_scenarios()
    fastai = _fastai_api()
    for name, options in CASES:
        for seed in (1, 2, 3):
            with deterministic(seed):
                a = as_data(getattr(S, name)(mine, seed=seed, **options))
            with deterministic(seed):
                b = as_data(getattr(S, name)(fastai, seed=seed, **options))
            if name == "model_layout":  # random init: compare the distribution, not the values
                for wa, wb in zip(a.pop("head_linear_weights"), b.pop("head_linear_weights")):
                    assert wa.shape == wb.shape and abs(float(wa.std() / wb.std()) - 1) < 0.2, (name, seed)
                assert all(float(v.abs().max()) == 0 for v in a.pop("head_linear_biases") + b.pop("head_linear_biases"))
            _same(a, b, f"{name}{options} seed {seed}")
        print(f"{name} {options}: implementation == fastai.vision.learner")
    print("implementation.py agrees with fastai.vision.learner and Learner.freeze")


if __name__ == "__main__":
    sys.exit(main())
