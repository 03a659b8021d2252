"""The student's U-Net, rebuilt in the grader's process from its weights and the published data flow.

The worker sends three kinds of data about a model it built: the ``state_dict`` (tensors), the
kind and settings of every decoder layer (``scenarios.describe``, a report) and outputs or gradients
for inputs made here. None of it is taken at its word. :func:`rebuild` turns the report into
trusted ``torch.nn`` layers wired by the data flow ``unet/unet.py`` publishes, with the encoder
built here from its spec, and loads the student's weights strictly (``grader.weights``). When this
model and the student's agree on fresh inputs, the report was true; the rebuild is then what the
checks evaluate, on data the worker never sees.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import re
import typing as t

import torch
import torch.nn.functional as F
from torch import nn

from grader.testing import fail
from grader.weights import load_weights

#: Decoder parts the data flow names (``unet/unet.py``); ``bn`` and ``up_final`` are optional.
TOP_PARTS = ("middle", "blocks", "up_final", "head")
BLOCK_PARTS = ("up", "bn", "conv1", "conv2")


def _int(v: t.Any) -> t.Any:
    if type(v) is tuple:
        return tuple(int(x) for x in v)
    return int(v)


def _conv(s: dict[str, t.Any], state_names: set[str], path: str, transpose: bool) -> nn.Module:
    kind = nn.ConvTranspose2d if transpose else nn.Conv2d
    padding = s.get("padding", 0)
    options: dict[str, t.Any] = {"stride": _int(s.get("stride", 1)), "dilation": _int(s.get("dilation", 1)),
                                 "groups": int(s.get("groups", 1)), "bias": f"{path}.bias" in state_names,
                                 "padding": padding if isinstance(padding, str) else _int(padding)}
    if transpose:
        options["output_padding"] = _int(s.get("output_padding", 0))
    else:
        options["padding_mode"] = str(s.get("padding_mode", "zeros"))
    return kind(int(s["in_channels"]), int(s["out_channels"]), _int(s["kernel_size"]), **options)


def _norm(kind: str, s: dict[str, t.Any], state_names: set[str], path: str) -> nn.Module:
    affine = f"{path}.weight" in state_names
    if kind == "GroupNorm":
        return nn.GroupNorm(int(s["num_groups"]), int(s["num_channels"]), eps=float(s.get("eps", 1e-5)), affine=affine)
    cls = nn.BatchNorm2d if kind == "BatchNorm2d" else nn.InstanceNorm2d
    momentum = s.get("momentum", 0.1)
    return cls(int(s["num_features"]), eps=float(s.get("eps", 1e-5)),
               momentum=None if momentum is None else float(momentum), affine=affine,
               track_running_stats=f"{path}.running_mean" in state_names)


#: torch.nn layers without weights the rebuild knows, built from their settings.
SIMPLE: dict[str, t.Callable[[dict[str, t.Any]], nn.Module]] = {
    "ReLU": lambda s: nn.ReLU(),
    "ReLU6": lambda s: nn.ReLU6(),
    "LeakyReLU": lambda s: nn.LeakyReLU(float(s.get("negative_slope", 0.01))),
    "ELU": lambda s: nn.ELU(float(s.get("alpha", 1.0))),
    "GELU": lambda s: nn.GELU(approximate=str(s.get("approximate", "none"))),
    "SiLU": lambda s: nn.SiLU(),
    "Mish": lambda s: nn.Mish(),
    "Sigmoid": lambda s: nn.Sigmoid(),
    "Tanh": lambda s: nn.Tanh(),
    "Identity": lambda s: nn.Identity(),
    "Dropout": lambda s: nn.Dropout(float(s.get("p", 0.5))),
    "Dropout2d": lambda s: nn.Dropout2d(float(s.get("p", 0.5))),
    "PixelShuffle": lambda s: nn.PixelShuffle(int(s["upscale_factor"])),
    "Upsample": lambda s: nn.Upsample(size=s.get("size"), scale_factor=s.get("scale_factor"),
                                      mode=str(s.get("mode", "nearest")), align_corners=s.get("align_corners")),
    "UpsamplingNearest2d": lambda s: nn.UpsamplingNearest2d(size=s.get("size"), scale_factor=s.get("scale_factor")),
    "UpsamplingBilinear2d": lambda s: nn.UpsamplingBilinear2d(size=s.get("size"), scale_factor=s.get("scale_factor")),
}


def _has_state(state_names: set[str], path: str) -> bool:
    return any(k.startswith(path + ".") for k in state_names)


def build_layer(desc: t.Any, state_names: set[str], path: str) -> nn.Module:
    """A trusted ``torch.nn`` layer (or ``nn.Sequential``) for the reported ``desc`` at ``path``."""
    if not isinstance(desc, dict) or not isinstance(desc.get("settings"), dict):
        fail(f"{path}: the scenario 'describe' sent no description of this layer.")
    kind, s, children = str(desc.get("kind")), desc["settings"], desc.get("children") or []
    try:
        if kind == "Sequential":
            layers = nn.Sequential()
            for item in children:
                name, child = item
                layers.add_module(str(name), build_layer(child, state_names, f"{path}.{name}"))
            return layers
        if kind in ("Conv2d", "ConvTranspose2d"):
            return _conv(s, state_names, path, kind == "ConvTranspose2d")
        if kind in ("BatchNorm2d", "InstanceNorm2d", "GroupNorm"):
            return _norm(kind, s, state_names, path)
        if kind in SIMPLE:
            return SIMPLE[kind](s)
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"{path} ({kind}): its settings could not be read ({exc}).")
    fail(f"{path} is a {kind}, which the checks cannot rebuild from its weights: use layers "
                       "from torch.nn (Conv2d, ConvTranspose2d, BatchNorm2d, ReLU, Upsample, ...) or an "
                       "nn.Sequential of them there.")


class Block(nn.Module):
    """One decoder block of the published data flow: ``up``, resize to the skip, ``bn`` on the skip
    (optional), concatenate, ReLU, ``conv1``, ReLU, ``conv2``, ReLU."""

    def __init__(self, parts: dict[str, nn.Module], names: dict[str, str], resize: str = "nearest") -> None:
        super().__init__()
        for name, module in parts.items():
            self.add_module(name, module)
        self.names = names
        self.resize = resize

    def forward(self, h: torch.Tensor, skip: torch.Tensor, swap: bool = False) -> torch.Tensor:
        up = getattr(self, self.names["up"])(h)
        if up.shape[-2:] != skip.shape[-2:]:
            if self.resize == "crop":  # a known mistake, for hints: crop (or pad with zeros) to the skip's size
                up = up[..., :skip.shape[-2], :skip.shape[-1]]
                up = F.pad(up, (0, skip.shape[-1] - up.shape[-1], 0, skip.shape[-2] - up.shape[-2]))
            else:
                up = F.interpolate(up, size=skip.shape[-2:], mode="nearest")
        if "bn" in self.names:
            skip = getattr(self, self.names["bn"])(skip)
        z = F.relu(torch.cat([skip, up] if swap else [up, skip], dim=1))
        z = F.relu(getattr(self, self.names["conv1"])(z))
        return F.relu(getattr(self, self.names["conv2"])(z))


def _block(desc: t.Any, state_names: set[str], path: str) -> tuple[dict[str, nn.Module], dict[str, str]]:
    """The parts of block ``path`` and which of them plays which role (``conv1``/``conv2`` found by
    name, or, after a naming slip, as the remaining layers with weights in their order)."""
    if not isinstance(desc, dict):
        fail(f"{path}: the scenario 'describe' sent no description of this block.")
    children = [(str(n), c) for n, c in (desc.get("children") or [])]
    names = [n for n, _ in children]
    if "up" not in names:
        fail(f"{path} has no layer `up` (the upsampling the data flow starts each block with).")
    roles = {r: r for r in BLOCK_PARTS if r in names}
    spare = [n for n in names if n not in BLOCK_PARTS and _has_state(state_names, f"{path}.{n}")]
    missing = [r for r in ("conv1", "conv2") if r not in roles]
    if len(spare) != len(missing):
        if spare:
            fail(f"{path} has layers with weights that the data flow does not name: "
                               f"{', '.join(spare)} (a block has up, bn (optional), conv1, conv2).")
        fail(f"{path} has no {' and no '.join(missing)}.")
    roles.update(zip(missing, spare))
    used = set(roles.values())
    parts = {n: build_layer(c, state_names, f"{path}.{n}") for n, c in children if n in used}
    return parts, roles


class Rebuilt(nn.Module):
    """The published data flow around the trusted ``encoder`` and the rebuilt decoder parts."""

    def __init__(self, encoder: nn.Sequential, skip_idxs: list[int], layout: t.Any, state_names: set[str],
                 resize: str = "nearest") -> None:
        super().__init__()
        if not isinstance(layout, list) or not all(isinstance(i, list) and len(i) == 2 for i in layout):
            fail("The scenario 'describe' did not describe your model's parts.")
        self.encoder = encoder
        self.skip_idxs = list(skip_idxs)
        parts = {str(n): d for n, d in layout}
        extra = [n for n in parts if n not in TOP_PARTS and _has_state(state_names, n)]
        if extra:
            fail(f"Your UNet has parts with weights that the data flow does not name: {', '.join(extra)} "
                               "(its parts are encoder, middle, blocks, up_final (optional) and head).")
        for name in ("blocks", "head"):
            if name not in parts:
                fail(f"Your UNet has no `{name}`, which the data flow in unet.py's docstring needs (the checks rebuild "
                     "your decoder from that data flow and your weights).")
        self.middle = build_layer(parts["middle"], state_names, "middle") if "middle" in parts else None
        self.up_final = build_layer(parts["up_final"], state_names, "up_final") if "up_final" in parts else None
        self.head = build_layer(parts["head"], state_names, "head")
        block_descs = parts["blocks"].get("children") if isinstance(parts["blocks"], dict) else None
        if not isinstance(block_descs, list):
            fail("`blocks` could not be read (an nn.ModuleList of decoder blocks).")
        if len(block_descs) != len(self.skip_idxs):
            fail(f"`blocks` has {len(block_descs)} decoder blocks, but the encoder changes its spatial "
                               f"size {len(self.skip_idxs)} times.")
        blocks = []
        for i, item in enumerate(block_descs):
            block_parts, roles = _block(item[1], state_names, f"blocks.{i}")
            blocks.append(Block(block_parts, roles, resize))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor, reverse: bool = False, swap: bool = False) -> torch.Tensor:
        skips, h = {}, x
        for i, layer in enumerate(self.encoder):
            h = layer(h)
            if i in self.skip_idxs:
                skips[i] = h
        if self.middle is not None:
            h = self.middle(h)
        order = self.skip_idxs[::-1] if reverse else self.skip_idxs
        for idx, block in zip(order, self.blocks):
            h = block(h, skips[idx], swap=swap)
        if self.up_final is not None:
            h = self.up_final(h)
        if h.shape[-2:] != x.shape[-2:]:
            h = F.interpolate(h, size=x.shape[-2:], mode="nearest")
        first = next((p for p in self.head.parameters() if p.dim() == 4), None)
        if first is not None and first.shape[1] == h.shape[1] + x.shape[1]:
            h = torch.cat([h, x], dim=1)  # the "last cross"
        return self.head(h)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """``self(x)``, or a failed check when the student's layers do not fit the data flow."""
        __tracebackhide__ = True
        try:
            return self(x)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0][:300]
            fail(f"The data flow in unet.py's docstring cannot run with your layers (rebuilt from your weights): "
                 f"{first}. Check that each layer gets the channels the data flow gives it (conv1: the upsampled "
                 "tensor and the skip, concatenated; head: the last block's output and the input).")


def rebuild(spec: t.Any, img_size: tuple[int, int], layout: t.Any, state: t.Any, *, dtype: torch.dtype = torch.float32,
            resize: str = "nearest", what: str = "your UNet") -> Rebuilt:
    """The trusted model for ``state`` and ``layout``, or a failed check that says what is missing.

    The encoder is ``build_encoder(spec)`` made here; the skip layers follow fastai's rule
    (``reference.skip_idxs``). ``load_weights`` loads ``state`` strictly.
    """
    __tracebackhide__ = True
    from reference.unet import reference as R

    encoder = R.scenarios().build_encoder(spec)
    names = set(state) if isinstance(state, dict) else set()
    model = Rebuilt(encoder, R.skip_idxs(encoder, img_size), layout, names, resize)
    model.to(dtype)
    return t.cast(Rebuilt, load_weights(model, state, what=what))


def conv_weight(state: dict[str, torch.Tensor], prefix: str) -> tuple[str, torch.Tensor] | None:
    """The first 4-D weight under ``prefix`` (``blocks.0.conv1``: itself a Conv2d, or a Sequential
    that starts with one), as ``(module path, weight)``."""
    pattern = re.compile(re.escape(prefix) + r"(\.[\w.]+)?\.weight$")
    for k, v in state.items():
        if pattern.fullmatch(k) and isinstance(v, torch.Tensor) and v.dim() == 4:
            return k[: -len(".weight")], v
    return None


def random_state(state: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """New values for every floating-point entry of ``state`` (same names, shapes, dtypes): weights
    at He scale, BatchNorm scales near 1, small biases, positive running variances."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in sorted(state.items()):
        if not v.is_floating_point():
            out[k] = v.clone()
            continue
        if k.endswith("running_var"):
            new = 0.5 + torch.rand(v.shape, generator=g, dtype=torch.float64)
        elif k.endswith("running_mean"):
            new = 0.2 * torch.randn(v.shape, generator=g, dtype=torch.float64)
        elif v.dim() >= 2:
            fan_in = max(1, v[0].numel())
            new = torch.randn(v.shape, generator=g, dtype=torch.float64) * (2.0 / fan_in) ** 0.5
        elif k.endswith("weight"):
            new = 1.0 + 0.2 * torch.randn(v.shape, generator=g, dtype=torch.float64)
        else:
            new = 0.05 + 0.1 * torch.randn(v.shape, generator=g, dtype=torch.float64)
        out[k] = new.to(v.dtype)
    return out
