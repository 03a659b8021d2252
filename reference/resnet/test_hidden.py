"""Hidden checks for `resnet`: ResBlock and ResNet against the documented architecture.

Nothing is taken at the worker's word: the checks load random weights made here into the
student's modules (by the order of the modules in their state_dict), run them on inputs made
here, and compare with the documented forward pass rebuilt here in float64 from the same weights
(``reference.resnet.reference``). Gradients come from a backward pass in the sandbox and are
compared with autograd of that rebuild; training runs in the sandbox from weights sent from here,
its losses are compared with a trusted run, and the trained weights are judged here on fresh
images whose labels never leave this process.
"""

import contextlib

import pytest
import torch
import torch.nn.functional as F

from grader.sandbox import RemoteObject, StudentError, WorkerError
from grader.scenarios import fresh_seed
from grader.testing import CheckFailed, assert_from_scratch, assert_tensor_close, fail
from reference.resnet.reference import (block_forward, block_modules, convs_forward, idpath_forward, init_state, make_stripes,
                                        mistakes_block, mistakes_resnet, modules_of, random_state, rename,
                                        resnet_forward, resnet_modules)

FORBIDDEN = ["fastai.layers.ResBlock", "fastai.vision.models.xresnet.XResNet", "fastai.vision.models.xresnet18",
             "torchvision.models.resnet.BasicBlock", "torchvision.models.resnet.Bottleneck",
             "torchvision.models.resnet.ResNet", "torchvision.models.resnet18"]
FORBIDDEN_MODULES = ["fastai", "fasttransform", "torchvision"]

#: (ni, nf, stride): identity path, projection only, pooling only, pooling and projection.
BLOCKS = [(4, 4, 1), (4, 6, 1), (4, 4, 2), (3, 6, 2)]


def _ids(configs):
    return [f"ResBlock{c}" for c in configs]


def _randn(*shape, seed, device, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)


def _state_of(module, what):
    __tracebackhide__ = True
    state = module.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail(f"{what}.state_dict() did not return a dict of tensors.")
    return state


def _load(module, state, what):
    """Load ``state`` into the student's module (in the worker)."""
    __tracebackhide__ = True
    module.load_state_dict(state)


def make_block(student, ni, nf, stride, device, dtype=torch.float32):
    """The student's ResBlock on ``device``/``dtype`` with random weights; returns (handle, state, convs, idpath)."""
    __tracebackhide__ = True
    what = f"ResBlock({ni}, {nf}, stride={stride})"
    block = student.ResBlock(ni, nf, stride)
    if not isinstance(block, RemoteObject):
        fail(f"{what} returned a {type(block).__name__}, but an nn.Module is expected.")
    block = block.to(device=device, dtype=dtype)
    template = _state_of(block, what)
    convs, idpath = block_modules(template, ni, nf, stride, what)
    state = random_state(template, seed=fresh_seed())
    _load(block, state, what)
    convs, idpath = block_modules(state, ni, nf, stride, what)
    return block, state, convs, idpath


@contextlib.contextmanager
def explain_inplace(what):
    """Explain autograd's in-place errors (an in-place addition on the skip tensor) in the course's words."""
    __tracebackhide__ = True
    try:
        yield
    except StudentError as exc:
        if "inplace" in exc.message.replace("-", "") or "in place" in exc.message:
            fail(f"{exc}\nAn in-place operation broke autograd in {what}: an in-place addition on the skip tensor "
                 "(`x += ...`, `.add_`) changes the block's input, which autograd still needs for the backward "
                 "pass. Add into a new tensor: `convs(x) + idpath(x)`.")
        raise


def set_mode(module, training):
    if training:
        module.train()
    else:
        module.eval()


# -- ResBlock -----------------------------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("config", BLOCKS, ids=_ids(BLOCKS))
def test_block_layout(student, device, config):
    """ResBlock has `convs` (conv-BN-ReLU-conv-BN, ending in the BatchNorm2d) and `idpath`, with the documented layers."""
    ni, nf, stride = config
    what = f"ResBlock({ni}, {nf}, stride={stride})"
    # The layers: read from the names, shapes and order of the weights (make_block), never from class names.
    block, state, convs, idpath = make_block(student, ni, nf, stride, device)
    block.eval()
    x = _randn(2, ni, 9, 7, seed=fresh_seed(), device=device)
    x64 = x.double().cpu()
    # What `convs` computes, on a fresh input, with weights chosen here: the conv path ends with its BN.
    def relu_last():
        return F.relu(convs_forward(convs, x64, stride, False))

    hints = {"a ReLU ends the conv path (after the last BatchNorm2d); the last module of convs must be the "
             "BatchNorm2d, the ReLU comes after the addition": relu_last}
    assert_tensor_close(block.convs(x), convs_forward(convs, x64, stride, False),
                        what=f"{what}.convs(x{tuple(x.shape)}) (eval mode)", dtype=x.dtype, device=x.device,
                        hints=hints)
    out = block.idpath(x)
    want = idpath_forward(idpath, x64, stride, False)
    if type(out) is not torch.Tensor or tuple(out.shape) != tuple(want.shape):
        fail(f"{what}.idpath(x{tuple(x.shape)}) returned {type(out).__name__} "
             f"{tuple(getattr(out, 'shape', ()))}, but a tensor of shape {tuple(want.shape)} is expected.")


@pytest.mark.points(2)
@pytest.mark.parametrize("config", BLOCKS, ids=_ids(BLOCKS))
def test_idpath(student, device, config):
    """The identity path: identity, AvgPool2d(2, ceil_mode=True) and/or 1x1 conv + BN (odd, non-square input)."""
    ni, nf, stride = config
    block, state, convs, idpath = make_block(student, ni, nf, stride, device)
    block.eval()
    x = _randn(2, ni, 7, 10, seed=fresh_seed(), device=device)
    x64 = x.double().cpu()
    hints = {
        "the identity path leaves x unchanged, but here it must "
        + ("pool" if stride != 1 else "") + (" and " if stride != 1 and ni != nf else "")
        + ("project (1x1 conv + BN)" if ni != nf else ""): lambda: x64,
        "the identity path max-pools; it average-pools (AvgPool2d(2, ceil_mode=True))":
            lambda: idpath_forward(idpath, F.max_pool2d(x64, 2, ceil_mode=True), 1, False),
        "the pooling lacks ceil_mode=True (an odd size loses its last row/column)":
            lambda: idpath_forward(idpath, F.avg_pool2d(x64, 2), 1, False),
        "the identity path uses a strided 1x1 conv instead of average pooling first":
            lambda: idpath_forward(idpath, x64[..., ::2, ::2], 1, False),
    } if (ni, nf, stride) != (ni, ni, 1) else {}
    what = f"ResBlock({ni}, {nf}, stride={stride}).idpath(x{tuple(x.shape)}) (eval mode)"
    assert_tensor_close(block.idpath(x), idpath_forward(idpath, x64, stride, False), what=what, dtype=x.dtype,
                        device=x.device, hints=hints)


@pytest.mark.points(2)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("config", BLOCKS, ids=_ids(BLOCKS))
def test_block_forward(student, device, config, training):
    """ResBlock(x) = relu(convs(x) + idpath(x)) with random weights, in training and eval mode."""
    ni, nf, stride = config
    block, state, convs, idpath = make_block(student, ni, nf, stride, device)
    set_mode(block, training)
    x = _randn(3, ni, 9, 6, seed=fresh_seed(), device=device)
    what = f"ResBlock({ni}, {nf}, stride={stride})(x{tuple(x.shape)}) in {'training' if training else 'eval'} mode"
    assert_tensor_close(block(x), block_forward(convs, idpath, x.double().cpu(), stride, training), what=what,
                        dtype=x.dtype, device=x.device, hints=mistakes_block(convs, idpath, x, stride, training))


@pytest.mark.points(3)
@pytest.mark.parametrize("config", [(4, 4, 1), (3, 6, 2)], ids=_ids([(4, 4, 1), (3, 6, 2)]))
def test_zero_last_bn(student, device, config):
    """With the last BN of convs at weight 0 (and bias 0), the block is relu(idpath(x))."""
    ni, nf, stride = config
    block, state, convs, idpath = make_block(student, ni, nf, stride, device)
    prefix = f"{convs[-1].prefix}."  # the last BatchNorm2d of convs, found in the weights (make_block)
    zeroed = [k for k in state if k.startswith(prefix) and k[len(prefix):] in ("weight", "bias")]
    for key in zeroed:
        state[key] = torch.zeros_like(state[key])
    x = _randn(2, ni, 8, 11, seed=fresh_seed(), device=device)
    for training in (False, True):
        _load(block, state, "ResBlock")
        set_mode(block, training)
        want = F.relu(idpath_forward(idpath, x.double().cpu(), stride, training))
        hints = {"the output is all zeros: with the last BN of convs at weight 0 and bias 0 only the conv path may "
                 "vanish, the identity path must still come through (is that BN applied after the addition, or is "
                 "the skip connection missing?)": torch.zeros_like(want),
                 **mistakes_block(modules_of(state, "convs."), idpath, x, stride, training)}
        assert_tensor_close(block(x), want, what=f"ResBlock({ni}, {nf}, stride={stride})(x) with the last BN weight "
                            f"of convs zeroed ({'training' if training else 'eval'} mode)", dtype=x.dtype,
                            device=x.device, hints=hints)


@pytest.mark.points(3)
@pytest.mark.parametrize("config", [(4, 4, 1), (3, 6, 2)], ids=_ids([(4, 4, 1), (3, 6, 2)]))
def test_block_gradients(student, device, config):
    """Gradients of the input and every parameter equal autograd's, and the block never changes its input."""
    ni, nf, stride = config
    what = f"ResBlock({ni}, {nf}, stride={stride})"
    seed = fresh_seed()
    block, state, convs, idpath = make_block(student, ni, nf, stride, device, dtype=torch.float64)
    x = _randn(2, ni, 7, 8, seed=seed, device=device, dtype=torch.float64)
    params = {f"{m.prefix}.{n}": m.tensors[n].detach().double().clone().requires_grad_(True)
              for m in convs + idpath for n in ("weight", "bias") if n in m.tensors}
    x_ref = x.detach().cpu().clone().requires_grad_(True)
    out_ref = block_forward(convs, idpath, x_ref, stride, True, params)
    grad_out = _randn(*out_ref.shape, seed=seed + 1, device=device, dtype=torch.float64)
    (out_ref * grad_out.cpu()).sum().backward()
    # The backward pass runs in the public scenario, whose code the sandbox could swap: its gradients count
    # only next to the student's own block, called here, computing the forward pass they belong to.
    block.train()
    assert_tensor_close(block(x), out_ref.detach(), what=f"{what}(x) (float64, training mode)", dtype=x.dtype,
                        device=x.device, hints=mistakes_block(convs, idpath, x, stride, True))
    with explain_inplace(what):
        got = student.scenario("block_backward", seed=seed, ni=ni, nf=nf, stride=stride, state=state, x=x,
                               grad_out=grad_out)
    if not isinstance(got, dict) or not {"input_changed", "out", "x_grad", "grads"} <= set(got):
        fail(f"the backward scenario for {what} did not return its result dict.")
    if got["input_changed"] is not False:
        fail(f"{what}(x) changed its input x in place (an in-place addition on the skip tensor, like `x += ...`?). "
             "Add into a new tensor: `convs(x) + idpath(x)`.")
    assert_tensor_close(got["out"], out_ref.detach(), what=f"{what}(x) (float64, training mode)", dtype=x.dtype,
                        device=x.device, hints=mistakes_block(convs, idpath, x, stride, True))
    if got["x_grad"] is None:
        fail(f"no gradient reaches the input x of {what}: the output must be computed from x by autograd-tracked "
             "operations.")
    assert_tensor_close(got["x_grad"], x_ref.grad, what=f"the gradient of x through {what}", dtype=x.dtype,
                        device=x.device)
    grads = got["grads"]
    if not isinstance(grads, dict) or set(grads) != set(params):
        fail(f"the parameters of {what} are not those of its state_dict (named_parameters differs).")
    for name, param in params.items():
        if grads[name] is None:
            fail(f"no gradient reaches the parameter {name!r} of {what}.")
        assert_tensor_close(grads[name], param.grad, what=f"the gradient of {name!r} of {what}", dtype=x.dtype,
                            device=x.device)


# -- ResNet -------------------------------------------------------------------------------------------

def make_resnet(student, n_in, n_out, layers, widths, device, dtype=torch.float32):
    __tracebackhide__ = True
    what = f"ResNet({n_in}, {n_out}, layers={layers}, widths={widths})"
    model = student.ResNet(n_in, n_out, layers=layers, widths=widths)
    if not isinstance(model, RemoteObject):
        fail(f"{what} returned a {type(model).__name__}, but an nn.Module is expected.")
    model = model.to(device=device, dtype=dtype)
    template = _state_of(model, what)
    resnet_modules(template, n_in, n_out, layers, widths, what)
    state = random_state(template, fresh_seed())
    _load(model, state, what)
    return model, state, resnet_modules(state, n_in, n_out, layers, widths, what), what


@pytest.mark.points(3)
def test_resnet_output_shapes(student, device):
    """ResNet(3, 5) with four stages maps (N, 3, H, W) to (N, 5) for H, W >= 16, odd and non-square."""
    layers, widths = (1, 1, 1, 1), (8, 16, 24, 32)  # the default stages, narrower (cheaper to check)
    model, state, modules, what = make_resnet(student, 3, 5, layers, widths, device)
    model.eval()
    for i, (h, w) in enumerate([(16, 16), (17, 23), (31, 16)]):
        x = _randn(2, 3, h, w, seed=fresh_seed(), device=device)
        assert_tensor_close(model(x), resnet_forward(modules, layers, widths, x.double().cpu(), False),
                            what=f"{what}(x{tuple(x.shape)}) in eval mode", dtype=x.dtype, device=x.device,
                            hints=mistakes_resnet(modules, layers, widths, x, False))


@pytest.mark.points(3)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_resnet_stages(student, device, training):
    """Several blocks per stage: only the first block of stages 2, 3, ... has stride 2."""
    layers, widths = (2, 1, 2), (4, 8, 8)
    model, state, modules, what = make_resnet(student, 3, 4, layers, widths, device)
    set_mode(model, training)
    x = _randn(3, 3, 19, 16, seed=fresh_seed(), device=device)
    assert_tensor_close(model(x), resnet_forward(modules, layers, widths, x.double().cpu(), training),
                        what=f"{what}(x{tuple(x.shape)}) in {'training' if training else 'eval'} mode",
                        dtype=x.dtype, device=x.device, hints=mistakes_resnet(modules, layers, widths, x, training))


@pytest.mark.points(2)
def test_precision_float64(student, device):
    """A float64 model on float64 input computes in float64 (ResBlock and ResNet, eval and training mode)."""
    x = _randn(2, 3, 9, 7, seed=fresh_seed(), device=device, dtype=torch.float64)
    block, state, convs, idpath = make_block(student, 3, 6, 2, device, dtype=torch.float64)
    for training in (False, True):
        set_mode(block, training)
        assert_tensor_close(block(x), block_forward(convs, idpath, x.cpu(), 2, training),
                            what=f"ResBlock(3, 6, stride=2).double()(x float64) in "
                            f"{'training' if training else 'eval'} mode", dtype=x.dtype, device=x.device)
    layers, widths = (1, 1), (4, 8)
    x = _randn(2, 3, 17, 16, seed=fresh_seed(), device=device, dtype=torch.float64)
    model, state, modules, what = make_resnet(student, 3, 2, layers, widths, device, dtype=torch.float64)
    model.eval()
    assert_tensor_close(model(x), resnet_forward(modules, layers, widths, x.cpu(), False),
                        what=f"{what}.double()(x float64) in eval mode", dtype=x.dtype, device=x.device)


TRAIN = dict(n_in=3, n_out=2, layers=(1, 1), widths=(8, 16))
#: Losses compared step by step: the first steps must agree to float32 precision; later steps drift
#: apart by rounding (a different but correct order of summation), so they are not compared.
COMPARED_STEPS = 5
MIN_ACCURACY = 0.9


@pytest.mark.points(4)
@pytest.mark.check_timeout(60)
@pytest.mark.cpu_budget(20)
def test_training(student, reference, device):
    """A short training run: the first losses equal a trusted run's, and the trained model sorts fresh images."""
    seed = fresh_seed()
    what = "ResNet(3, 2, layers=(1, 1), widths=(8, 16))"
    model = student.ResNet(TRAIN["n_in"], TRAIN["n_out"], layers=TRAIN["layers"], widths=TRAIN["widths"])
    student_modules = resnet_modules(_state_of(model, what), **TRAIN, what=what)
    ref_template = reference.ResNet(TRAIN["n_in"], TRAIN["n_out"], TRAIN["layers"], TRAIN["widths"]).state_dict()
    ref_init = init_state(ref_template, seed)
    student_init = rename(modules_of(ref_init), student_modules)
    x, y = make_stripes(512, 16, 18, seed)
    x, y = x.to(device), y.to(device)
    steps = 18 + seed % 5  # drawn from the seed too: a canned loss list has the wrong length
    want = reference.scenario("train", seed=seed, **TRAIN, init_state=ref_init, x=x, y=y, steps=steps)
    with explain_inplace(what):
        got = student.scenario("train", seed=seed, **TRAIN, init_state=student_init, x=x, y=y, steps=steps)
    if not isinstance(got, dict) or not {"losses", "state"} <= set(got):
        fail("the training scenario did not return its result dict.")
    losses = got["losses"]
    if not isinstance(losses, list) or len(losses) != len(want["losses"]) or \
            not all(type(v) is float for v in losses):
        fail(f"the training scenario returned no list of {len(want['losses'])} float losses.")
    try:
        assert_tensor_close(torch.tensor(losses[:COMPARED_STEPS]), torch.tensor(want["losses"][:COMPARED_STEPS]),
                            what=f"losses[:{COMPARED_STEPS}] of the training run of {what}", dtype=torch.float32,
                            device="cpu")
    except CheckFailed as exc:
        fail(f"{exc}\nThe same training with a trusted ResNet from the same weights and batches gives other losses: "
             "your forward pass (or its gradients) differs from the documented architecture; the ResBlock and "
             "ResNet checks show where.")
    state = got["state"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail("the training scenario returned no state_dict.")
    modules = resnet_modules(state, **TRAIN, what=f"the trained {what}")
    # The training ran in the sandbox, where its code could be swapped: the trained weights count only
    # if the student's own ResNet, carrying them, computes what the documented architecture computes.
    model = model.to(device)
    _load(model, state, what)
    model.eval()
    x_fresh = _randn(4, 3, 17, 16, seed=fresh_seed(), device=device)
    assert_tensor_close(model(x_fresh), resnet_forward(modules, TRAIN["layers"], TRAIN["widths"],
                                                       x_fresh.double().cpu(), False),
                        what=f"your {what} carrying the trained weights, on new inputs (eval mode)",
                        dtype=x_fresh.dtype, device=x_fresh.device,
                        hints=mistakes_resnet(modules, TRAIN["layers"], TRAIN["widths"], x_fresh, False))
    # The images whose labels decide: made here, never sent to the worker.
    x_test, y_test = make_stripes(256, 17, 16, fresh_seed())
    with torch.no_grad():
        logits = resnet_forward(modules, TRAIN["layers"], TRAIN["widths"], x_test.double(), training=False)
    accuracy = float((logits.argmax(dim=1) == y_test).double().mean())
    if not accuracy >= MIN_ACCURACY:
        fail(f"After the training run, your ResNet (its trained weights, in eval mode) classifies {accuracy:.0%} "
             f"of fresh test images correctly; at least {MIN_ACCURACY:.0%} are needed. Check BatchNorm's running "
             "statistics and the eval mode.")


@pytest.mark.points(3)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """ResBlock and ResNet from PyTorch layers, without fastai's or torchvision's ResNet parts (else no points)."""
    x_block, x_net = _randn(2, 3, 8, 8, seed=60, device="cpu"), _randn(2, 3, 16, 16, seed=61, device="cpu")
    calls = {  # simple sizes: only what runs matters here, the values are judged by the other checks
        "ResBlock(3, 6, 2)": lambda: student.ResBlock(3, 6, 2),
        "ResBlock(3, 6, 2)(x)": lambda: student.ResBlock(3, 6, 2)(x_block),
        "ResNet(3, 2)": lambda: student.ResNet(3, 2, layers=(1, 1), widths=(4, 8)),
        "ResNet(3, 2)(x)": lambda: student.ResNet(3, 2, layers=(1, 1), widths=(4, 8))(x_net),
    }
    ran = []
    with student.recording_ops() as ops:
        for name, call in calls.items():
            try:
                call()
                ran.append(name)
            except WorkerError:
                pass
    if not ran:
        fail("Neither ResBlock nor ResNet could even be created without an error, so nothing could be checked.")
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_modules=FORBIDDEN_MODULES,
                        modules_seen=student.imported_modules(), what="ResBlock and ResNet")
