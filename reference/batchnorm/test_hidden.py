"""Hidden checks for `batchnorm`: the student's layer next to torch.nn.BatchNorm2d in float64.

Each check drives a student layer (a remote handle) and a float64 ``nn.BatchNorm2d`` here through
the same steps and compares outputs, running statistics (read back through ``state_dict()``) and,
in a scenario, gradients. Inputs are non-square (H != W) and have a non-zero mean; their values
are drawn afresh on every grading run (``_SALT``), so answers recorded in one run are no use in the
next. What the worker says about the layer itself (its parameters, buffers, requires_grad flags)
can only make a check fail: every check passes only on values computed here.
"""

from __future__ import annotations

import typing as t

import pytest
import torch

from grader.sandbox import StudentError, WorkerError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from grader.weights import load_weights
from reference.batchnorm.reference import (EVERY_BATCH_NORM, FORBIDDEN, FORBIDDEN_MODULES, _bn, f64, output_mistakes,
                                           reference_layer, running_mistakes, with_precision)

REQUIRED = ("weight", "bias", "running_mean", "running_var")
OPTIONAL = ("num_batches_tracked",)

#: aten ops that compute a batch norm (every backend) or reach one (instance_norm calls batch_norm).
BATCH_NORM_OPS = r"batch_norm|instance_norm"

#: Drawn once per grading run and mixed into every input's seed.
_SALT = fresh_seed()


def _randn(*shape, seed, device="cpu", dtype=torch.float32, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(_SALT + seed)
    return (torch.randn(*shape, generator=g, dtype=dtype) * scale + shift).to(device)


class Twin:
    """The student's layer (remote) and PyTorch's (here, float64), driven through the same steps."""

    def __init__(self, student, device, num_features: int, dtype=torch.float32, **options: t.Any) -> None:
        self.call = "BatchNorm2d({})".format(", ".join([str(num_features), *(f"{k}={v}" for k, v in options.items())]))
        self.layer = student.BatchNorm2d(num_features, **options)
        self.layer.to(device=device, dtype=dtype)
        self.ref = reference_layer(num_features, **options)
        self.eps, self.momentum = options.get("eps", 1e-5), options.get("momentum", 0.1)
        self.device, self.dtype = device, dtype
        self.steps = 0

    def set_affine(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Load weight and bias into both layers (through ``load_state_dict``)."""
        self.load({"weight": weight, "bias": bias})

    def load(self, values: dict[str, torch.Tensor]) -> None:
        """Load ``values`` (some of the four tensors) into both layers; the student's via ``load_state_dict``."""
        self.layer.load_state_dict({k: v.to(self.device, self.dtype) for k, v in values.items()}, strict=False)
        with torch.no_grad():
            for name, value in values.items():
                getattr(self.ref, name).copy_(f64(value))

    def eval(self) -> None:
        self.layer.eval()
        self.ref.eval()

    def train(self) -> None:
        self.layer.train()
        self.ref.train()

    def state(self) -> dict[str, t.Any]:
        """The student's ``state_dict()``, with a clear message when a key is missing."""
        sd = self.layer.state_dict()
        if not isinstance(sd, dict):
            fail(f"{self.call}.state_dict() did not return a dict.")
        missing = [k for k in REQUIRED if k not in sd]
        if missing:
            fail(f"{self.call}.state_dict() has no {', '.join(missing)}: weight and bias must be nn.Parameters "
                 "and running_mean/running_var registered buffers (self.register_buffer), with these names.")
        return sd

    def forward(self, x: torch.Tensor, what: str) -> None:
        """One forward pass of both; compare outputs and the running statistics afterwards."""
        __tracebackhide__ = True
        training = self.ref.training
        before = (self.ref.running_mean.detach().clone(), self.ref.running_var.detach().clone())
        affine = (self.ref.weight.detach().clone(), self.ref.bias.detach().clone())
        y = self.layer(x)
        with torch.no_grad():
            ref_y = self.ref(f64(x))
        hints = output_mistakes(x, *before, *affine, training=training, momentum=self.momentum, eps=self.eps)
        assert_tensor_close(y, ref_y, what=f"the output of {what}", dtype=x.dtype, device=x.device,
                            hints=with_precision(hints, ref_y, x.dtype))
        self.steps += training
        sd = self.state()
        for which, key in ((1, "running_mean"), (2, "running_var")):
            if training:
                hints = running_mistakes(x, *before, momentum=self.momentum, which=which)
            else:
                hints = {"the running statistics were updated in evaluation mode (they must stay as they are)":
                         lambda w=which: _bn(x, *before, *affine, momentum=self.momentum, eps=self.eps)[w]}
            expected = getattr(self.ref, key)
            assert_tensor_close(sd[key], expected, what=f"{key} after {what}", dtype=self.dtype, device=self.device,
                                hints=with_precision(hints, expected, self.dtype))
        if "num_batches_tracked" in sd:
            count = sd["num_batches_tracked"]
            if not isinstance(count, torch.Tensor) or count.is_floating_point() or count.numel() != 1 \
                    or int(count) != self.steps:
                fail(f"num_batches_tracked after {what} should count the {self.steps} training forward passes "
                     "so far (an integer tensor; leave it out if you don't need it).")


# -- structure ---------------------------------------------------------------------------

@pytest.mark.points(2)
def test_parameters_and_buffers(student, device):
    """weight, bias, running_mean, running_var: nn.BatchNorm2d's names, shapes and initial values, and in use."""
    twin = Twin(student, device, 5)
    # What the layer says about itself can only fail the check, naming the mistake; the check
    # passes on what is verified here (the state's names, shapes and values, and outputs).
    params, buffers = twin.layer._parameters, twin.layer._buffers
    if not isinstance(params, dict) or not isinstance(buffers, dict):
        fail("BatchNorm2d(5) must be an nn.Module (call super().__init__() first).")
    for name in ("weight", "bias"):
        if name not in params:
            where = " It is registered as a buffer, but it must be learnable." if name in buffers else ""
            fail(f"BatchNorm2d(5) has no parameter {name!r}: make it an nn.Parameter of shape (5,).{where}")
        if params[name] is None or not params[name].requires_grad:
            fail(f"BatchNorm2d(5).{name} does not require grad: the optimizer could not train it.")
    extra = sorted(set(params) - {"weight", "bias"})
    if extra:
        fail(f"BatchNorm2d(5) has parameters {extra} that nn.BatchNorm2d does not have.")
    for name in ("running_mean", "running_var"):
        if name not in buffers:
            fail(f"BatchNorm2d(5).{name} is not a registered buffer: use self.register_buffer({name!r}, ...) so "
                 "that it is saved in state_dict() and moves with .to(device) (it is no parameter either).")
    extra = sorted(set(buffers) - {"running_mean", "running_var", *OPTIONAL})
    if extra:
        fail(f"BatchNorm2d(5) has buffers {extra} that nn.BatchNorm2d does not have.")
    # The state as tensors: nn.BatchNorm2d's names and shapes (loaded into a trusted layer) ...
    state = twin.state()
    if sorted(set(state) - set(OPTIONAL)) != sorted(REQUIRED):
        fail(f"BatchNorm2d(5).state_dict() has the keys {sorted(map(str, state))}, but those of nn.BatchNorm2d "
             f"({', '.join(REQUIRED)}, optionally num_batches_tracked) are expected.")
    load_weights(reference_layer(5), state, what="BatchNorm2d(5)", ignore=lambda name: name in OPTIONAL)
    # ... and its initial values,
    for name in REQUIRED:
        assert_tensor_close(state[name], f64(getattr(twin.ref, name)), what=f"the initial {name}",
                            dtype=torch.float32, device=device)
    # ... and the tensors of these names are the ones the layer computes with: fresh values loaded
    # into it must give torch's outputs and running statistics.
    g = torch.Generator().manual_seed(fresh_seed())
    twin.load({"weight": torch.randn(5, generator=g) * 0.5 + 1, "bias": torch.randn(5, generator=g),
               "running_mean": torch.randn(5, generator=g), "running_var": torch.rand(5, generator=g) + 0.5})
    twin.eval()
    twin.forward(_randn(3, 5, 4, 3, seed=91, device=device, scale=2.0),
                 f"{twin.call} in evaluation mode, after load_state_dict")
    twin.train()
    twin.forward(_randn(4, 5, 3, 4, seed=92, device=device, shift=1.0),
                 f"{twin.call} in training mode, after load_state_dict")


# -- training mode -----------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 5, 3, 7), (8, 2, 4, 3)])
def test_training_forward(student, device, shape):
    """Training mode: normalise with the batch's mean and biased variance, scale, shift, update the stats."""
    n, c, h, w = shape
    seed = sum(i * s for i, s in enumerate(shape, 1))
    twin = Twin(student, device, c)
    twin.set_affine(_randn(c, seed=seed + 1, scale=0.5, shift=1.0), _randn(c, seed=seed + 2))
    x = _randn(*shape, seed=seed, device=device, scale=2.0, shift=1.5)
    twin.forward(x, f"{twin.call} in training mode on x{shape}")


@pytest.mark.points(2)
def test_tiny_batch(student, device):
    """A tiny 2x3x2x2 batch (8 values per channel): biased variance to normalise, unbiased for running_var."""
    twin = Twin(student, device, 3)
    for step in range(2):
        x = _randn(2, 3, 2, 2, seed=20 + step, device=device, shift=0.5)
        twin.forward(x, f"training step {step + 1} of {twin.call} on a 2x3x2x2 batch")


@pytest.mark.points(2)
def test_momentum_convention(student, device):
    """running = (1 - momentum) * running + momentum * batch statistic, over three steps with momentum=0.3."""
    twin = Twin(student, device, 4, momentum=0.3)
    for step in range(3):
        x = _randn(3, 4, 3, 5, seed=30 + step, device=device, scale=1.0 + step, shift=step - 1.0)
        twin.forward(x, f"training step {step + 1} of {twin.call}")


# -- evaluation mode ---------------------------------------------------------------------

@pytest.mark.points(2)
def test_eval_uses_running_stats(student, device):
    """After .eval() the layer normalises with running_mean/running_var and leaves them unchanged."""
    twin = Twin(student, device, 3, momentum=0.5)
    twin.set_affine(_randn(3, seed=41, shift=1.0), _randn(3, seed=42))
    for step in range(2):
        twin.forward(_randn(4, 3, 3, 4, seed=43 + step, device=device, scale=3.0, shift=2.0),
                     f"training step {step + 1} of {twin.call}")
    twin.eval()
    for step, n in enumerate((5, 1)):
        twin.forward(_randn(n, 3, 3, 4, seed=45 + step, device=device, scale=0.5, shift=-1.0),
                     f"{twin.call} in evaluation mode on a batch of {n}")


@pytest.mark.points(2)
def test_eps_inside_sqrt(student, device):
    """A nearly constant channel (variance ~1e-8, far below eps): eps goes inside the square root."""
    twin = Twin(student, device, 3)
    x = _randn(4, 3, 3, 5, seed=51, device=device)
    x[:, 1] = 0.5 + 1e-4 * _randn(4, 3, 5, seed=52, device=device)
    twin.forward(x, f"{twin.call} on a batch whose channel 1 is nearly constant")
    twin = Twin(student, device, 3, eps=1e-3, momentum=0.2)
    twin.forward(x, f"{twin.call} (training mode) on the same batch")
    twin.eval()
    twin.forward(x, f"{twin.call} in evaluation mode")


@pytest.mark.points(2)
def test_float64(student, device):
    """A float64 layer (layer.double()) on float64 input: float64 results accurate to 1e-9."""
    twin = Twin(student, device, 3, dtype=torch.float64, momentum=0.2)
    twin.set_affine(_randn(3, seed=61, shift=1.0, dtype=torch.float64), _randn(3, seed=62, dtype=torch.float64))
    for step in range(2):
        x = _randn(3, 3, 4, 5, seed=63 + step, device=device, dtype=torch.float64, scale=4.0, shift=3.0)
        twin.forward(x, f"training step {step + 1} of {twin.call} in float64")
    twin.eval()
    twin.forward(_randn(2, 3, 4, 5, seed=66, device=device, dtype=torch.float64), f"{twin.call} in float64, eval mode")


# -- gradients ---------------------------------------------------------------------------

@pytest.mark.check_timeout(30)  # the first scenario call in a worker imports torch._inductor (seconds)
@pytest.mark.points(3)
def test_gradients(student, device, reference):
    """Gradients w.r.t. input, weight and bias equal PyTorch's, in training mode and in evaluation mode."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    c = 3
    inputs = {"x": torch.randn(4, c, 3, 5, generator=g) * 2 + 1, "grad_out": torch.randn(4, c, 3, 5, generator=g),
              "weight": torch.randn(c, generator=g) * 0.5 + 1, "bias": torch.randn(c, generator=g),
              "eval_x": torch.randn(2, c, 3, 5, generator=g), "eval_grad": torch.randn(2, c, 3, 5, generator=g)}
    try:
        mine = student.scenario("gradients", seed=seed, momentum=0.1, **{k: v.to(device) for k, v in inputs.items()})
    except StudentError as exc:
        if "backward through the graph a second time" not in exc.message:
            raise
        fail(f"{exc}\nIn evaluation mode the output depends on running_mean/running_var; their update in training "
             "mode was recorded by autograd (update them under torch.no_grad()).")
    ref = reference.scenario("gradients", seed=seed, momentum=0.1, **{k: f64(v) for k, v in inputs.items()})
    x, w, gy = (f64(inputs[k]) for k in ("x", "weight", "grad_out"))
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    detached = gy * w.view(1, -1, 1, 1) / (var + 1e-5).sqrt()
    for mode in ("train", "eval"):
        for key, what in (("y", "the output"), ("x", "the gradient w.r.t. the input"),
                          ("weight", "the gradient w.r.t. weight"), ("bias", "the gradient w.r.t. bias")):
            part = mine.get(mode) if isinstance(mine, dict) else None
            got = part.get(key) if isinstance(part, dict) else None
            if got is None:
                fail(f"{what[0].upper()}{what[1:]} in {mode} mode is missing (None): weight and bias must be "
                     "trainable nn.Parameters and the output must depend on the input through differentiable "
                     "operations.")
            hints = {}
            if mode == "train" and key == "x":
                hints = {"the batch mean and variance were detached (or computed under no_grad): the gradient must "
                         "also flow through them": detached}
            assert_tensor_close(got, ref[mode][key], what=f"{what} in {mode} mode", dtype=torch.float32, device=device,
                                hints=with_precision(hints, ref[mode][key], torch.float32))


@pytest.mark.points(1)
def test_running_stats_carry_no_graph(student, device):
    """The running statistics are updated without recording an autograd graph."""
    layer = student.BatchNorm2d(3)
    layer.to(device=device)
    x = _randn(4, 3, 3, 5, seed=71, device=device).requires_grad_(True)
    layer(x)
    for name in ("running_mean", "running_var"):
        value = getattr(layer, name)
        if not isinstance(value, torch.Tensor):
            fail(f"BatchNorm2d(3).{name} is not a tensor.")
        if value.requires_grad:
            fail(f"After a training step on an input that requires grad, {name} requires grad: its update was "
                 "recorded by autograd, so every step chains onto the last. Update it under torch.no_grad() "
                 "(or from detached statistics).")
    # The flag above is the worker's word and can only fail the check; it passes on the values of a
    # training step and an evaluation step after it.
    twin = Twin(student, device, 3)
    twin.forward(x.detach(), f"{twin.call} in training mode")
    twin.eval()
    twin.forward(_randn(2, 3, 3, 5, seed=72, device=device), f"{twin.call} in evaluation mode")


# -- from scratch ------------------------------------------------------------------------

@pytest.mark.points(3)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No built-in batch norm (F.batch_norm, nn.BatchNorm2d, ...), direct, inherited or indirect (else no points)."""
    ran = False
    with student.recording_ops() as ops:  # only what runs matters here: the values are judged by the other checks
        try:
            layer = student.BatchNorm2d(2)
            layer.to(device)
        except WorkerError:
            layer = None
        for training, x in ((True, _randn(3, 2, 4, 5, seed=81, device=device, shift=1.0)),
                            (False, _randn(2, 2, 4, 5, seed=82, device=device))):
            try:
                if layer is not None:
                    layer.train(training)
                    layer(x)
                    ran = True
            except WorkerError:
                pass
    # The verdict: the source scan (every file, read in full). The aten ops and modules are a tripwire on top.
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_ops=BATCH_NORM_OPS,
                        forbidden_modules=FORBIDDEN_MODULES, modules_seen=student.imported_modules(),
                        what="BatchNorm2d")
    assert_from_scratch((), student_sources, forbidden_names=EVERY_BATCH_NORM, what="BatchNorm2d")
    if not ran:
        fail("BatchNorm2d could not be built and run without an error, so it could not be checked that it is "
             "written from scratch.")
