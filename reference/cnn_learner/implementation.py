"""The exercise's API on fastai 2.8: what `reference.scenario(...)` runs in the trusted process.

``fastai.vision.learner`` itself imports torchvision and torch._dynamo (about 5 CPU seconds), so
its five small functions are restated here line by line on top of fastai's own layers
(``fastai.layers``: ``AdaptiveConcatPool2d``, ``Flatten``, ``LinBnDrop``; ``fastai.torch_core``:
``apply_init``, ``norm_bias_params``), with the exercise's signatures (``pretrained=False``,
``n_in=3``, ``pool=True``, ``lin_first=False``, ``y_range=None``). ``verify_against_fastai.py``
next to this file checks them against the real ``fastai.vision.learner`` and ``Learner.freeze``
(run it after a fastai upgrade).
"""

from __future__ import annotations

import re
import warnings

import torch
from torch import nn

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastai.layers import AdaptiveConcatPool2d, Flatten, LinBnDrop
    from fastai.torch_core import apply_init, norm_bias_params

__all__ = ["create_body", "create_head", "create_cnn_model", "freeze_body", "cnn_splitter", "AdaptiveConcatPool2d"]


def _is_pool_type(m):  # fastai.vision.learner._is_pool_type
    return re.search(r'Pool[123]d$', m.__class__.__name__)


def has_pool_type(m):  # fastai.vision.learner.has_pool_type
    if _is_pool_type(m):
        return True
    for l in m.children():
        if has_pool_type(l):
            return True
    return False


def cut_model(model, cut):  # fastai.vision.learner.cut_model
    if isinstance(cut, int):
        return nn.Sequential(*list(model.children())[:cut])
    elif callable(cut):
        return cut(model)
    raise NameError("cut must be either integer or a function")


def create_body(model, cut=None):  # fastai.vision.learner.create_body with n_in=3 (no first-layer change)
    if cut is None:
        ll = list(enumerate(model.children()))
        cut = next(i for i, o in reversed(ll) if has_pool_type(o))
    return cut_model(model, cut)


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    """fastai.vision.learner.create_head with pool=True, lin_first=False, y_range=None."""
    if concat_pool:
        nf *= 2
    lin_ftrs = [nf, 512, n_out] if lin_ftrs is None else [nf] + lin_ftrs + [n_out]
    bns = [first_bn] + [True] * len(lin_ftrs[1:])
    ps = list(ps) if isinstance(ps, (list, tuple)) else [ps]  # fastai: L(ps)
    if len(ps) == 1:
        ps = [ps[0] / 2] * (len(lin_ftrs) - 2) + ps
    actns = [nn.ReLU(inplace=True)] * (len(lin_ftrs) - 2) + [None]
    layers = [AdaptiveConcatPool2d() if concat_pool else nn.AdaptiveAvgPool2d(1), Flatten()]
    for ni, no, bn, p, actn in zip(lin_ftrs[:-1], lin_ftrs[1:], bns, ps, actns):
        layers += LinBnDrop(ni, no, bn=bn, p=p, act=actn, lin_first=False)
    if bn_final:
        layers.append(nn.BatchNorm1d(lin_ftrs[-1], momentum=0.01))
    return nn.Sequential(*layers)


def _num_features_model(m):  # fastai.callback.hook.num_features_model (model_sizes + dummy_eval)
    sz = 32
    ch_in = next(l.weight.shape[1] for l in m.modules()
                 if getattr(l, "weight", None) is not None and l.weight.ndim == 4)
    while True:
        try:
            x = next(m.parameters()).new(1, ch_in, sz, sz).requires_grad_(False).uniform_(-1., 1.)
            with torch.no_grad():
                return m.eval()(x).shape[1]
        except Exception:
            sz *= 2
            if sz > 2048:
                raise


def create_cnn_model(model, n_out, cut=None, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True,
                     bn_final=False):
    """fastai.vision.learner.create_vision_model for an instantiated model (pretrained=False)."""
    body = create_body(model, cut)
    nf = _num_features_model(nn.Sequential(*body.children()))
    head = create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool, first_bn=first_bn,
                       bn_final=bn_final)
    model = nn.Sequential(body, head)  # fastai.vision.learner.add_head
    apply_init(model[1], nn.init.kaiming_normal_)
    return model


def cnn_splitter(model):  # fastai.vision.learner.default_split
    return [list(model[0].parameters()), list(model[1:].parameters())]


def freeze_body(model, train_bn=True):
    """``Learner.freeze()`` (``opt.freeze_to(-1)``) with the default splitter: every group but the
    last loses ``requires_grad``, except the parameters fastai marks ``force_train`` when ``train_bn``
    (``norm_bias_params(model, with_bias=False)``: all normalisation layers)."""
    force = {id(p) for p in norm_bias_params(model, with_bias=False)} if train_bn else set()
    groups = cnn_splitter(model)
    for p in groups[-1]:
        p.requires_grad_(True)
    for group in groups[:-1]:
        for p in group:
            p.requires_grad_(id(p) in force)
    return model
