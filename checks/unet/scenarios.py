"""Scenarios for `unet`: they build an encoder, describe your decoder, backpropagate and train.

The checks call your ``UNet`` themselves (``student.UNet(encoder, n_out, img_size)``) on an encoder
that ``make_encoder`` built in the worker, and run these functions there on your model. What comes
back is data: your model's weights (``state_dict``), the kind of every decoder layer, gradients.
The grader rebuilds your decoder from them (the data flow in ``unet/unet.py``'s docstring), loads
your weights and compares it with your model on inputs it draws itself. They use only torch. You
can run them yourself::

    import torch, unet, scenarios
    encoder = scenarios.make_encoder(unet, seed=0, spec=scenarios.ENCODER_A)
    model = unet.UNet(encoder, 3, (32, 40))
    scenarios.describe(unet, seed=0, model=model)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: A tiny encoder with a stride-1 stem: skips at full and half resolution.
ENCODER_A = [("conv", 3, 8, 1), ("bn", 8), ("relu",), ("conv", 8, 16, 2), ("bn", 16), ("relu",),
             ("conv", 16, 24, 2), ("bn", 24), ("relu",)]
#: A ResNet-like encoder: stride-2 stem and max pooling, so the decoder ends at half resolution.
ENCODER_B = [("conv", 3, 7, 2), ("bn", 7), ("relu",), ("maxpool",), ("conv", 7, 10, 1), ("bn", 10), ("relu",),
             ("conv", 10, 20, 2), ("bn", 20), ("relu",), ("conv", 20, 28, 2), ("bn", 28), ("relu",)]
#: Halving by ``nn.MaxPool2d(2)``, which rounds odd sizes *down* (33 -> 16 -> 32, but the skip has 33).
ENCODER_C = [("conv", 3, 8, 1), ("bn", 8), ("relu",), ("pool2",), ("conv", 8, 16, 1), ("bn", 16), ("relu",),
             ("pool2",), ("conv", 16, 24, 1), ("bn", 24), ("relu",)]

#: The encoder the training check uses.
ENCODER_TRAIN = [("conv", 3, 8, 1), ("bn", 8), ("relu",), ("conv", 8, 12, 2), ("bn", 12), ("relu",),
                 ("conv", 12, 16, 2), ("bn", 16), ("relu",)]


def build_encoder(spec) -> nn.Sequential:
    """An ``nn.Sequential`` from a list like ``ENCODER_A`` (3x3 convs with padding 1, BN, ReLU, max pooling:
    ``"maxpool"`` is ``MaxPool2d(3, 2, 1)``, which rounds odd sizes up, ``"pool2"`` is ``MaxPool2d(2)``)."""
    layers: list[nn.Module] = []
    for item in spec:
        kind = item[0]
        if kind == "conv":
            _, c_in, c_out, stride = item
            layers.append(nn.Conv2d(int(c_in), int(c_out), 3, stride=int(stride), padding=1, bias=False))
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(int(item[1])))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "maxpool":
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
        elif kind == "pool2":
            layers.append(nn.MaxPool2d(2))
        else:
            raise ValueError(f"unknown layer {kind!r}")
    return nn.Sequential(*layers)


def make_discs(n: int, height: int, width: int, generator: torch.Generator):
    """``n`` synthetic images (n, 3, height, width) with one or two bright discs, and their masks (n, height, width).

    The mask is 1 inside a disc and 0 outside (a long tensor: class indices for cross-entropy).
    """
    g = generator
    yy = torch.arange(height, dtype=torch.float32).view(1, height, 1)
    xx = torch.arange(width, dtype=torch.float32).view(1, 1, width)
    scale = min(height, width) / 32
    masks = torch.zeros(n, height, width, dtype=torch.bool)
    for disc in range(2):
        radius = (3.5 + 5.0 * torch.rand(n, 1, 1, generator=g)) * scale
        cy = torch.rand(n, 1, 1, generator=g) * (height - 1)
        cx = torch.rand(n, 1, 1, generator=g) * (width - 1)
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
        keep = (torch.rand(n, 1, 1, generator=g) < 0.6) if disc else torch.ones(n, 1, 1, dtype=torch.bool)
        masks |= inside & keep
    background = 0.1 + 0.3 * torch.rand(n, 3, 1, 1, generator=g)
    tint = 0.5 + 0.5 * torch.rand(n, 3, 1, 1, generator=g)
    noise = 0.12 * torch.randn(n, 3, height, width, generator=g)
    x = background + tint * masks.unsqueeze(1).float() + noise
    return x, masks.long()


def make_encoder(impl, *, seed, spec, dtype=torch.float32, device="cpu"):
    """``build_encoder(spec)`` on ``device`` in ``dtype``: the encoder the checks give to your ``UNet``."""
    return build_encoder(spec).to(device=device, dtype=dtype)


#: The settings of a layer that the grader reads to rebuild it (those the layer has).
SETTINGS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
            "groups", "padding_mode", "num_features", "num_groups", "num_channels", "eps", "momentum",
            "negative_slope", "alpha", "approximate", "p", "size", "scale_factor", "mode", "align_corners",
            "upscale_factor")


def _setting(value):
    if value is None or type(value) in (bool, int, float, str):
        return True
    return type(value) is tuple and all(type(v) in (int, float) for v in value)


def layer_kind(module: nn.Module):
    """The ``torch.nn`` class whose ``forward`` ``module`` runs, or its own class when it has its own forward."""
    own = type(module)
    for cls in own.__mro__:
        if cls.__module__.startswith("torch.nn.modules.") and cls.forward is own.forward:
            return cls.__name__
    return own.__qualname__


def describe_layer(module: nn.Module, depth: int = 0):
    """``{"kind": ..., "settings": {...}, "children": [[name, description], ...]}`` for ``module``."""
    settings = {k: getattr(module, k) for k in SETTINGS if hasattr(module, k) and _setting(getattr(module, k))}
    children = [[name, describe_layer(child, depth + 1)] for name, child in module.named_children()] if depth < 8 else []
    return {"kind": layer_kind(module), "settings": settings, "children": children}


def describe(impl, *, seed, model):
    """Every part of ``model`` except the encoder: ``[[name, describe_layer(part)], ...]`` in
    ``named_children()`` order (the grader rebuilds your decoder from this and your weights)."""
    return [[name, describe_layer(child)] for name, child in model.named_children() if name != "encoder"]


def forward(impl, *, seed, model, x):
    """``model(x)`` in eval mode, without gradient."""
    model.eval()
    with torch.no_grad():
        return model(x)


def gradients(impl, *, seed, model, encoder, x, cut_bottom=False):
    """Backpropagate ``(model(x) * w).sum()`` (fixed weights ``w``) in eval mode and return the output
    and the gradient of every named parameter (``None`` where none arrived). With ``cut_bottom=True``
    a forward hook zeroes the output of the encoder's last layer: then gradient can only reach the
    encoder through the skips."""
    model.eval()
    for p in model.parameters():
        p.grad = None
    hook = encoder[-1].register_forward_hook(lambda mod, inp, out: out * 0) if cut_bottom else None
    try:
        out = model(x)
        weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype, device=out.device).view(out.shape)
        (out * weights).sum().backward()
    finally:
        if hook is not None:
            hook.remove()
    return {"output": out.detach(), "grads": {k: None if p.grad is None else p.grad.detach().clone()
                                              for k, p in model.named_parameters()}}


def _adam_step(params, state, lr, step, betas=(0.9, 0.99), eps=1e-8):
    """One Adam step, written out (torch.optim's first step costs a second of imports)."""
    with torch.no_grad():
        for p, (avg, sqr) in zip(params, state):
            if p.grad is None:
                continue
            avg.mul_(betas[0]).add_(p.grad, alpha=1 - betas[0])
            sqr.mul_(betas[1]).addcmul_(p.grad, p.grad, value=1 - betas[1])
            denom = (sqr / (1 - betas[1] ** step)).sqrt_().add_(eps)
            p.addcdiv_(avg, denom, value=-lr / (1 - betas[0] ** step))


def train(impl, *, seed, model, x, y, steps=40, bs=8, lr=1e-2, fg_weight=3.0):
    """Train ``model`` on the images ``x`` and masks ``y`` with Adam (learning rate decaying from ``lr``
    to ``lr/10`` along a cosine; cross-entropy with class 1 weighted ``fg_weight``), batches of ``bs``
    drawn from the seed. Returns the losses; the model is left in eval mode."""
    g = torch.Generator().manual_seed(seed)
    device = x.device
    class_weight = torch.tensor([1.0, float(fg_weight)], device=device)
    params = [p for p in model.parameters() if p.requires_grad]
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    losses = []
    model.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (bs,), generator=g).to(device)
        loss = F.cross_entropy(model(x[idx]), y[idx], weight=class_weight)
        for p in params:
            p.grad = None
        loss.backward()
        _adam_step(params, state, lr * (0.55 + 0.45 * math.cos(math.pi * step / steps)), step)
        losses.append(float(loss.detach()))
    model.eval()
    return losses
