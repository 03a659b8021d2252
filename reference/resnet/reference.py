"""Trusted reference for `resnet`: the documented architecture, rebuilt from a state_dict.

The student's modules stay in the worker; what comes back is data: the ``state_dict`` (names,
shapes) and outputs on inputs made here. This module

- reads a state_dict as the ordered list of its parameterised modules (conv, BN, linear) and
  matches it with the documented architecture (``expected_block`` / ``expected_resnet``), so that
  any module names work as long as the modules are created in the documented order;
- makes random states for those names (``random_state``), which checks load into the student's
  module, and
- computes the documented forward pass functionally from such a state in float64
  (``block_forward`` / ``resnet_forward``), differentiable for gradient checks.

Only the grader's process imports this; it never reaches a worker.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from grader.testing import fail

BN_KEYS = ("weight", "bias", "running_mean", "running_var")


@dataclass(frozen=True)
class Role:
    """One parameterised module of the documented architecture."""

    kind: str  # "conv", "bn" or "linear"
    shape: tuple[int, ...]  # weight shape (conv, linear) or (channels,) for BN

    def describe(self) -> str:
        if self.kind == "conv":
            o, i, kh, kw = self.shape
            return f"a Conv2d({i}, {o}, {kh}) (weight {self.shape})"
        if self.kind == "bn":
            return f"a BatchNorm2d({self.shape[0]})"
        return f"a Linear({self.shape[1]}, {self.shape[0]})"


@dataclass
class Module:
    """A parameterised module found in a state_dict: its name prefix and tensors by short name."""

    prefix: str
    tensors: dict[str, torch.Tensor]

    @property
    def kind(self) -> str:
        if "running_mean" in self.tensors:
            return "bn"
        weight = self.tensors.get("weight")
        if weight is not None and weight.dim() == 4:
            return "conv"
        if weight is not None and weight.dim() == 2:
            return "linear"
        return "other"

    @property
    def shape(self) -> tuple[int, ...]:
        if self.kind == "bn":
            return tuple(self.tensors["running_mean"].shape)
        weight = self.tensors.get("weight")
        return tuple(weight.shape) if weight is not None else ()

    def describe(self) -> str:
        kind = {"bn": "a BatchNorm2d", "conv": "a Conv2d", "linear": "a Linear"}.get(self.kind, "a module")
        return f"{self.prefix!r} ({kind} with weight shape {self.shape})"


def modules_of(state: t.Mapping[str, torch.Tensor], prefix: str = "") -> list[Module]:
    """The parameterised modules under ``prefix`` in state_dict order (= the order of creation)."""
    found: dict[str, Module] = {}
    for key, value in state.items():
        if not key.startswith(prefix) or "." not in key:
            continue
        owner, name = key.rsplit(".", 1)
        found.setdefault(owner, Module(owner, {})).tensors[name] = value
    return list(found.values())


# -- the documented architecture ----------------------------------------------------------------------

def expected_convs(ni: int, nf: int, stride: int) -> list[Role]:
    return [Role("conv", (nf, ni, 3, 3)), Role("bn", (nf,)), Role("conv", (nf, nf, 3, 3)), Role("bn", (nf,))]


def expected_idpath(ni: int, nf: int, stride: int) -> list[Role]:
    return [Role("conv", (nf, ni, 1, 1)), Role("bn", (nf,))] if ni != nf else []


def block_plan(layers: t.Sequence[int], widths: t.Sequence[int]) -> list[tuple[int, int, int]]:
    """``(ni, nf, stride)`` of every ResBlock of a ResNet, in order."""
    plan, ni = [], widths[0]
    for i, (n_blocks, nf) in enumerate(zip(layers, widths)):
        for j in range(n_blocks):
            plan.append((ni, nf, 2 if i > 0 and j == 0 else 1))
            ni = nf
    return plan


def expected_resnet(n_in: int, n_out: int, layers: t.Sequence[int], widths: t.Sequence[int]) -> list[Role]:
    roles = [Role("conv", (widths[0], n_in, 3, 3)), Role("bn", (widths[0],))]
    for ni, nf, stride in block_plan(layers, widths):
        roles += expected_convs(ni, nf, stride) + expected_idpath(ni, nf, stride)
    return roles + [Role("linear", (n_out, widths[-1]))]


def match(found: list[Module], roles: list[Role], what: str, where: str) -> list[Module]:
    """Fail with a helpful message unless ``found`` has the documented modules in the documented order."""
    __tracebackhide__ = True
    for index, role in enumerate(roles):
        if index >= len(found):
            fail(f"{what}: {where} has {len(found)} modules with parameters, but {len(roles)} are expected; "
                 f"the {_ordinal(index + 1)} should be {role.describe()}. Build exactly the documented layers.")
        module = found[index]
        if module.kind != role.kind or module.shape != role.shape:
            fail(f"{what}: the {_ordinal(index + 1)} module with parameters in {where} is {module.describe()}, "
                 f"but {role.describe()} is expected there. Build the documented layers, in the documented order "
                 "(the checks read your state_dict in the order the modules were created).")
        if role.kind == "bn" and not all(k in module.tensors for k in BN_KEYS):
            fail(f"{what}: {module.prefix!r} lacks {', '.join(k for k in BN_KEYS if k not in module.tensors)}: "
                 "use nn.BatchNorm2d with its defaults (affine, running statistics).")
        if role.kind == "linear" and "bias" not in module.tensors:
            fail(f"{what}: the head {module.prefix!r} has no bias; use nn.Linear with its default bias=True.")
    if len(found) > len(roles):
        fail(f"{what}: {where} has {len(found)} modules with parameters, but {len(roles)} are expected; "
             f"{found[len(roles)].describe()} is one too many.")
    return found


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def block_modules(state: t.Mapping[str, torch.Tensor], ni: int, nf: int, stride: int,
                  what: str) -> tuple[list[Module], list[Module]]:
    """``(convs, idpath)`` modules of a ResBlock's state_dict, checked against the documented layout."""
    __tracebackhide__ = True
    other = [k for k in state if not (k.startswith("convs.") or k.startswith("idpath."))]
    if other:
        fail(f"{what}: the state_dict holds {other[0]!r}, outside convs and idpath; a ResBlock has only "
             "`convs` and `idpath` (the ReLU after the addition has no parameters).")
    convs = match(modules_of(state, "convs."), expected_convs(ni, nf, stride), what, "convs")
    idpath = match(modules_of(state, "idpath."), expected_idpath(ni, nf, stride), what, "idpath")
    return convs, idpath


def resnet_modules(state: t.Mapping[str, torch.Tensor], n_in: int, n_out: int, layers: t.Sequence[int],
                   widths: t.Sequence[int], what: str) -> list[Module]:
    __tracebackhide__ = True
    return match(modules_of(state), expected_resnet(n_in, n_out, layers, widths), what, "the model")


# -- random states ------------------------------------------------------------------------------------

def random_state(template: t.Mapping[str, torch.Tensor], seed: int, zero_bias: bool = False) -> dict[str, torch.Tensor]:
    """Random values for every entry of ``template`` (same names, shapes and dtypes), CPU.

    Conv/linear weights ~ N(0, 2/fan_in), BN weights around 1, biases and running means small,
    running variances in [0.5, 1.5]; ``zero_bias`` zeroes conv biases (a training start).
    """
    g = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for module in modules_of(template):
        kind = module.kind
        for name, value in module.tensors.items():
            shape = tuple(value.shape)
            if not value.is_floating_point():
                new = torch.full(shape, 3, dtype=value.dtype)
            elif name == "weight" and kind in ("conv", "linear"):
                fan_in = math.prod(shape[1:])
                new = torch.randn(shape, generator=g, dtype=torch.float64) * math.sqrt(2 / fan_in)
            elif name == "weight" and kind == "bn":
                new = 1 + 0.3 * torch.randn(shape, generator=g, dtype=torch.float64)
            elif name == "running_var":
                new = 0.5 + torch.rand(shape, generator=g, dtype=torch.float64)
            elif name == "bias" and kind == "conv" and zero_bias:
                new = torch.zeros(shape, dtype=torch.float64)
            else:
                new = 0.2 * torch.randn(shape, generator=g, dtype=torch.float64)
            state[f"{module.prefix}.{name}"] = new.to(value.dtype) if value.is_floating_point() else new
    missing = [k for k in template if k not in state]
    for key in missing:  # entries without a module prefix: leave them as they are
        state[key] = template[key].detach().cpu().clone()
    return {k: state[k] for k in template}


def rename(values: t.Sequence[Module], target: t.Sequence[Module]) -> dict[str, torch.Tensor]:
    """Module tensors of ``values`` under the names of ``target`` (both matched to the same roles)."""
    out: dict[str, torch.Tensor] = {}
    for src, dst in zip(values, target):
        for name, tensor in dst.tensors.items():
            out[f"{dst.prefix}.{name}"] = src.tensors[name].clone() if name in src.tensors else torch.zeros_like(tensor)
    return out


# -- the documented forward pass, functionally --------------------------------------------------------

def _f64(module: Module, name: str) -> torch.Tensor | None:
    value = module.tensors.get(name)
    return None if value is None else value.detach().cpu().double()


def conv(x: torch.Tensor, module: Module, stride: int = 1, padding: int = 0,
         params: t.Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    weight = _param(module, "weight", params)
    bias = _param(module, "bias", params)
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)


def bn(x: torch.Tensor, module: Module, training: bool, params: t.Mapping[str, torch.Tensor] | None = None):
    mean, var = _f64(module, "running_mean").clone(), _f64(module, "running_var").clone()  # batch_norm updates them
    return F.batch_norm(x, mean, var, _param(module, "weight", params), _param(module, "bias", params),
                        training=training, momentum=0.1, eps=1e-5)


def _param(module: Module, name: str, params: t.Mapping[str, torch.Tensor] | None) -> torch.Tensor | None:
    key = f"{module.prefix}.{name}"
    if params is not None and key in params:
        return params[key]
    return _f64(module, name)


def idpath_forward(idpath: list[Module], x: torch.Tensor, stride: int, training: bool,
                   params: t.Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    if stride != 1:
        x = F.avg_pool2d(x, stride, ceil_mode=True)
    if idpath:
        x = bn(conv(x, idpath[0], params=params), idpath[1], training, params)
    return x


def convs_forward(convs: list[Module], x: torch.Tensor, stride: int, training: bool,
                  params: t.Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    h = F.relu(bn(conv(x, convs[0], stride, 1, params), convs[1], training, params))
    return bn(conv(h, convs[2], 1, 1, params), convs[3], training, params)


def block_forward(convs: list[Module], idpath: list[Module], x: torch.Tensor, stride: int, training: bool,
                  params: t.Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    """``relu(convs(x) + idpath(x))`` in float64 (``x`` float64; ``params`` override tensors by full name)."""
    return F.relu(convs_forward(convs, x, stride, training, params) + idpath_forward(idpath, x, stride, training,
                                                                                       params))


def resnet_forward(modules: list[Module], layers: t.Sequence[int], widths: t.Sequence[int], x: torch.Tensor,
                   training: bool, params: t.Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
    """The documented ResNet in float64 from its matched modules."""
    h = F.relu(bn(conv(x, modules[0], 1, 1, params), modules[1], training, params))
    at = 2
    for ni, nf, stride in block_plan(layers, widths):
        n_id = 2 if ni != nf else 0
        convs, idpath = modules[at:at + 4], modules[at + 4:at + 4 + n_id]
        h = block_forward(convs, idpath, h, stride, training, params)
        at += 4 + n_id
    head = modules[at]
    return F.linear(h.mean(dim=(2, 3)), _param(head, "weight", params), _param(head, "bias", params))


def mistakes_block(convs: list[Module], idpath: list[Module], x: torch.Tensor, stride: int,
                   training: bool) -> dict[str, t.Callable[[], torch.Tensor]]:
    """Known wrong ResBlock outputs, keyed by the text the student sees after "It looks like"."""
    x64 = x.detach().cpu().double()
    def bn_after_add() -> torch.Tensor:
        h = F.relu(bn(conv(x64, convs[0], stride, 1), convs[1], training))
        return F.relu(bn(conv(h, convs[2], 1, 1) + idpath_forward(idpath, x64, stride, training), convs[3], training))

    out: dict[str, t.Callable[[], torch.Tensor]] = {
        "the last BatchNorm of convs is applied after the addition (to the sum); it belongs to the conv path, "
        "before the addition": bn_after_add,
        "the ReLU is applied to the conv path before the addition; it belongs after the addition":
            lambda: F.relu(convs_forward(convs, x64, stride, training)) + idpath_forward(idpath, x64, stride, training),
        "the ReLU is applied to the conv path before the addition (and after it again); it belongs only after "
        "the addition":
            lambda: F.relu(F.relu(convs_forward(convs, x64, stride, training))
                           + idpath_forward(idpath, x64, stride, training)),
        "the ReLU after the addition is missing":
            lambda: convs_forward(convs, x64, stride, training) + idpath_forward(idpath, x64, stride, training),
        "the identity path is missing (no skip connection)":
            lambda: F.relu(convs_forward(convs, x64, stride, training)),
    }
    if stride != 1:
        def max_pooled() -> torch.Tensor:
            h = F.max_pool2d(x64, stride, ceil_mode=True)
            if idpath:
                h = bn(conv(h, idpath[0]), idpath[1], training)
            return F.relu(convs_forward(convs, x64, stride, training) + h)

        out["the identity path max-pools; it average-pools (AvgPool2d(2, ceil_mode=True))"] = max_pooled
    return out


def resnet_plan_variant(layers: t.Sequence[int], widths: t.Sequence[int], variant: str) -> list[tuple[int, int, int]]:
    """Block plans of typical stride mistakes (same channels, other strides)."""
    plan, ni = [], widths[0]
    for i, (n_blocks, nf) in enumerate(zip(layers, widths)):
        for j in range(n_blocks):
            if variant == "every_block":
                stride = 2 if i > 0 else 1
            elif variant == "first_stage_too":
                stride = 2 if j == 0 else 1
            else:  # "last_block"
                stride = 2 if i > 0 and j == n_blocks - 1 else 1
            plan.append((ni, nf, stride))
            ni = nf
    return plan


def resnet_forward_plan(modules: list[Module], plan: list[tuple[int, int, int]], x: torch.Tensor, training: bool,
                        pool: str = "mean") -> torch.Tensor:
    """Like ``resnet_forward`` with an explicit block plan and global pooling ("mean" or "max")."""
    h = F.relu(bn(conv(x, modules[0], 1, 1), modules[1], training))
    at = 2
    for ni, nf, stride in plan:
        n_id = 2 if ni != nf else 0
        h = block_forward(modules[at:at + 4], modules[at + 4:at + 4 + n_id], h, stride, training)
        at += 4 + n_id
    head = modules[at]
    pooled = h.mean(dim=(2, 3)) if pool == "mean" else h.amax(dim=(2, 3))
    return F.linear(pooled, _f64(head, "weight"), _f64(head, "bias"))


def mistakes_resnet(modules: list[Module], layers: t.Sequence[int], widths: t.Sequence[int], x: torch.Tensor,
                    training: bool) -> dict[str, t.Callable[[], torch.Tensor]]:
    x64 = x.detach().cpu().double()
    return {
        "every block of stages 2, 3, ... has stride 2; only the first block of those stages has":
            lambda: resnet_forward_plan(modules, resnet_plan_variant(layers, widths, "every_block"), x64, training),
        "the first block of the first stage has stride 2 too; the first stage keeps the size (the stem has "
        "stride 1)":
            lambda: resnet_forward_plan(modules, resnet_plan_variant(layers, widths, "first_stage_too"), x64,
                                        training),
        "the stride-2 block is the last block of a stage; it is the first":
            lambda: resnet_forward_plan(modules, resnet_plan_variant(layers, widths, "last_block"), x64, training),
        "the global pooling takes the maximum; it is the mean over H and W (global average pooling)":
            lambda: resnet_forward_plan(modules, block_plan(layers, widths), x64, training, pool="max"),
    }


# -- training -----------------------------------------------------------------------------------------

def init_state(template: t.Mapping[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """A training start for ``template``'s names: conv/linear weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    (PyTorch's default scale), biases 0, BN at its defaults (weight 1, bias 0, mean 0, var 1)."""
    g = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for module in modules_of(template):
        for name, value in module.tensors.items():
            shape = tuple(value.shape)
            if not value.is_floating_point():
                new = torch.zeros(shape, dtype=value.dtype)
            elif name == "weight" and module.kind in ("conv", "linear"):
                bound = 1 / math.sqrt(math.prod(shape[1:]))
                new = (torch.rand(shape, generator=g) * 2 - 1) * bound
            elif name in ("weight", "running_var"):
                new = torch.ones(shape)
            else:
                new = torch.zeros(shape)
            state[f"{module.prefix}.{name}"] = new.to(value.dtype)
    return {k: state.get(k, template[k].detach().cpu().clone()) for k in template}


def make_stripes(n: int, h: int, w: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` RGB images (n, 3, h, w): class 0 horizontal stripes, class 1 vertical stripes, with random
    frequency, phase and contrast per image, under N(0, 1) noise; labels (n,) int64."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    freq = 0.5 + torch.rand(n, 1, 1, generator=g)
    phase = torch.rand(n, 1, 1, generator=g) * 2 * math.pi
    rows = torch.arange(h, dtype=torch.float32).view(1, h, 1).expand(n, h, w)
    cols = torch.arange(w, dtype=torch.float32).view(1, 1, w).expand(n, h, w)
    coord = torch.where(y.view(n, 1, 1) == 0, rows, cols)
    pattern = torch.sin(coord * freq + phase).unsqueeze(1)
    contrast = 0.5 + torch.rand(n, 3, 1, 1, generator=g)
    x = pattern * contrast + torch.randn(n, 3, h, w, generator=g)
    return x, y
