"""Scenarios for `unet`: they build an encoder and your `UNet`, run it and report data.

The checks run these functions in the worker against your package (``impl``) and judge what they
return in the grader's process. They use only torch. You can run one yourself::

    import unet, scenarios
    scenarios.forward(unet, seed=0, spec=scenarios.ENCODER_A, n_out=3, img_size=(32, 40), x=torch.randn(2, 3, 33, 47))
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

#: The encoder the training check uses.
ENCODER_TRAIN = [("conv", 3, 8, 1), ("bn", 8), ("relu",), ("conv", 8, 12, 2), ("bn", 12), ("relu",),
                 ("conv", 12, 16, 2), ("bn", 16), ("relu",)]


def build_encoder(spec) -> nn.Sequential:
    """An ``nn.Sequential`` from a list like ``ENCODER_A`` (3x3 convs with padding 1, BN, ReLU, max pool)."""
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


def _model(impl, spec, n_out, img_size, device, dtype=torch.float32):
    encoder = build_encoder(spec).to(device=device, dtype=dtype)
    return encoder, impl.UNet(encoder, int(n_out), tuple(img_size))


def forward(impl, *, seed, spec, n_out, img_size, x):
    """Build ``UNet(build_encoder(spec), n_out, img_size)`` on ``x``'s device and dtype; return ``model(x)``."""
    _, model = _model(impl, spec, n_out, img_size, x.device, x.dtype)
    model.to(device=x.device, dtype=x.dtype)
    with torch.no_grad():
        return model(x)


def structure(impl, *, seed, spec, n_out, img_size, x):
    """What the decoder looks like: per block the type and the channels of ``conv1``/``conv2``,
    the output shape of every block for the input ``x``, whether ``model.encoder`` is the given
    encoder, and the encoder's state before and after building the model."""
    encoder = build_encoder(spec).to(x.device)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    model = impl.UNet(encoder, int(n_out), tuple(img_size)).to(x.device)
    after = {k: v.clone() for k, v in encoder.state_dict().items()}
    blocks = []
    for block in model.blocks:
        c1, c2 = block.conv1, block.conv2
        blocks.append({"type": type(block).__name__, "conv1": [type(c1).__name__, c1.in_channels, c1.out_channels],
                       "conv2": [type(c2).__name__, c2.in_channels, c2.out_channels]})
    shapes: list[list[int]] = []
    hooks = [b.register_forward_hook(lambda mod, inp, out: shapes.append(list(out.shape))) for b in model.blocks]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return {"blocks": blocks, "block_shapes": shapes, "same_encoder": model.encoder is encoder,
            "before": before, "after": after}


def _randomize_decoder(model, encoder, seed):
    """Random weights (from ``seed``) for every parameter outside the encoder, so that an init
    with zeros (a zero last layer is a fine trick) cannot block the gradient this scenario measures."""
    g = torch.Generator().manual_seed(seed)
    own = {id(p) for p in encoder.parameters()}
    with torch.no_grad():
        for p in model.parameters():
            if id(p) in own:
                continue
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * (2.0 / p[0].numel()) ** 0.5)
            else:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))  # BN weights near 1, biases keep ReLUs open


def encoder_gradients(impl, *, seed, spec, n_out, img_size, x, cut_bottom=False):
    """Backpropagate a loss of ``model(x)`` and return the gradient norm of every encoder layer
    (``None`` for layers without parameters). With ``cut_bottom=True`` a forward hook zeroes the
    output of the encoder's last layer: then gradient can only reach the encoder through the skips.
    The decoder's parameters are drawn at random from ``seed`` first."""
    encoder, model = _model(impl, spec, n_out, img_size, x.device, x.dtype)
    model.to(device=x.device, dtype=x.dtype)
    _randomize_decoder(model, encoder, seed)
    if cut_bottom:
        encoder[-1].register_forward_hook(lambda mod, inp, out: out * 0)
    out = model(x)
    weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype, device=out.device).view(out.shape)
    (out * weights).sum().backward()
    norms = []
    for layer in encoder:
        grads = [p.grad for p in layer.parameters()]
        if not grads:
            norms.append(None)
        else:
            norms.append(float(sum(float(g.double().norm()) if g is not None else 0.0 for g in grads)))
    return norms


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


def train_discs(impl, *, seed, spec, img_size, test_x, steps=40, bs=8, lr=1e-2, fg_weight=2.0, device="cpu"):
    """Train ``UNet(build_encoder(spec), 2, img_size)`` with Adam (learning rate decaying from ``lr``
    to ``lr/10`` along a cosine; cross-entropy with the disc class weighted ``fg_weight``) on
    synthetic discs made from the seed, then return the losses and the logits (eval mode) for the
    images ``test_x``."""
    g = torch.Generator().manual_seed(seed)
    x, y = make_discs(steps * bs // 2, img_size[0], img_size[1], g)
    x, y = x.to(device), y.to(device)
    _, model = _model(impl, spec, 2, img_size, device)
    model.to(device)
    class_weight = torch.tensor([1.0, float(fg_weight)], device=device)
    params = [p for p in model.parameters() if p.requires_grad]
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    losses = []
    model.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (bs,), generator=g)
        loss = F.cross_entropy(model(x[idx]), y[idx], weight=class_weight)
        for p in params:
            p.grad = None
        loss.backward()
        _adam_step(params, state, lr * (0.55 + 0.45 * math.cos(math.pi * step / steps)), step)
        losses.append(float(loss.detach()))
    model.eval()
    with torch.no_grad():
        logits = model(test_x.to(device))
    return {"losses": losses, "logits": logits}
