"""Hidden checks for `basics`: matmul, relu, lin, mse, the MLP's hand-written gradients and SGD.

References are torch (and torch autograd) on float64 copies. Matrices are non-square (but for
one check) so that swapped axes show. Every input is drawn afresh per grading run (``_SALT``, and
fresh seeds for the gradient checks); every verdict is a value compared here with torch, or the
source scan of the submission (the from-scratch gate).
"""

from __future__ import annotations

import ast
import random

import pytest
import torch

from grader.sandbox import StudentError, StudentImportError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail, quietly
from reference.basics.reference import (PARAMS, f64, lin_ref, matmul_mistakes, matmul_ref, mlp_mistakes, mlp_ref,
                                        mse_mistakes, mse_ref, relu_ref, with_precision)

FORBIDDEN = ["torch.matmul", "torch.mm", "torch.bmm", "torch.einsum", "torch.dot", "torch.vdot", "torch.mv",
             "torch.addmm", "torch.addmv", "torch.baddbmm", "torch.addbmm", "torch.tensordot", "torch.inner",
             "torch.linalg.multi_dot", "torch.linalg.matmul", "torch.chain_matmul", "torch.nn.functional.linear",
             "torch.Tensor.matmul", "torch.Tensor.mm", "torch.Tensor.__matmul__", "torch.Tensor.__rmatmul__"]

#: aten ops that compute a matrix product (the ``@`` operator, torch.matmul, mm, einsum, dot, linear...).
MATMUL_OPS = (r"^aten::(_?mm|bmm|addmm|addbmm|baddbmm|_addmm_activation|_int_mm|_scaled_mm|mv|addmv|dot|vdot"
              r"|matmul|einsum|linear|tensordot|inner|_sparse_mm)$")

#: Names that mean autograd is doing the backward pass.
AUTOGRAD_ATTRS = {"backward", "autograd", "grad_fn"}
AUTOGRAD_MODULES = ("torch.autograd", "torch.func", "functorch")


#: Added to every seed below: the inputs' values are drawn afresh on every grading run, so answers a
#: submission recorded in an earlier run do not match.
_SALT = fresh_seed()


def _randn(*shape, seed, device="cpu", dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(_SALT + seed), dtype=dtype).to(device)


def _mlp_inputs(seed, device, dtype=torch.float32, n=None, d=None, h=None):
    """Random MLP inputs whose hidden pre-activations all keep clear of 0 (|l1| > 1e-3).

    Right at the ReLU's kink a float32 rounding could flip the mask; the kink has its own check.
    """
    rng = random.Random(seed)
    n, d, h = n or rng.randint(5, 9), d or rng.randint(2, 4), h or rng.randint(6, 10)
    while True:
        x = _randn(n, d, seed=seed, dtype=dtype)
        w1 = _randn(d, h, seed=seed + 1, dtype=dtype) / d ** 0.5
        b1 = _randn(h, seed=seed + 2, dtype=dtype) * 0.5
        if bool(((f64(x) @ f64(w1) + f64(b1)).abs() > 1e-3).all()):
            break
        seed += 10
    w2 = _randn(h, 1, seed=seed + 3, dtype=dtype) / h ** 0.5
    b2 = _randn(1, seed=seed + 4, dtype=dtype)
    y = _randn(n, seed=seed + 5, dtype=dtype)
    return tuple(v.to(device) for v in (x, w1, b1, w2, b2, y))


def check_matmul(student, a, b):
    __tracebackhide__ = True
    what = f"matmul(a{tuple(a.shape)}, b{tuple(b.shape)})"
    ref = matmul_ref(a, b)
    assert_tensor_close(student.matmul(a, b), ref, what=what, dtype=a.dtype, device=a.device,
                        hints=with_precision(matmul_mistakes(a, b), ref, a.dtype))


def check_mlp(student, inputs, result=None, where=""):
    """Compare (loss, grads) with autograd; name a known mistake per gradient."""
    __tracebackhide__ = True
    x = inputs[0]
    shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in zip(("x", *PARAMS, "y"), inputs))
    what = f"mlp_forward_backward({shapes}){where}"
    if result is None:
        result = student.mlp_forward_backward(*inputs)
    if type(result) not in (tuple, list) or len(result) != 2:
        fail(f"{what} must return a pair (loss, grads).")
    loss, grads = result
    ref_loss, ref_grads = mlp_ref(*inputs)
    broadcast_loss = mlp_ref(*inputs, broadcast_mse=True)[0]
    assert_tensor_close(loss, ref_loss, what=f"the loss of {what}", dtype=x.dtype, device=x.device,
                        hints=with_precision({"out (n, 1) minus y (n,) was broadcast into an (n, n) matrix: squeeze "
                                              "the last axis first": broadcast_loss}, ref_loss, x.dtype))
    if type(grads) is not dict:
        fail(f"the grads of {what} must be a dict with the keys {', '.join(PARAMS)}.")
    if sorted(grads) != sorted(PARAMS):
        fail(f"the grads of {what} have the keys {sorted(map(str, grads))}, but exactly "
             f"{', '.join(PARAMS)} are expected.")
    tracked = [name for name, v in (("the loss", loss), *((f"grads[{k!r}]", grads[k]) for k in PARAMS))
               if isinstance(v, torch.Tensor) and v.requires_grad]
    if tracked:
        fail(f"{tracked[0]} of {what} requires grad, although no input did: your code switched autograd on. "
             "Compute the gradients by hand (no requires_grad_, .backward() or torch.autograd).")
    hints = mlp_mistakes(*inputs)
    for key in PARAMS:
        assert_tensor_close(grads[key], ref_grads[key], what=f"grads[{key!r}] of {what}", dtype=x.dtype,
                            device=x.device, hints=with_precision(hints[key], ref_grads[key], x.dtype))


# -- matmul ------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(3, 5, 4), (6, 2, 7), (1, 4, 3), (5, 1, 2)])
def test_matmul(student, device, shape):
    """matmul(a, b) of non-square matrices (and a row, and an outer product) equals a @ b."""
    n, k, m = shape
    check_matmul(student, _randn(n, k, seed=sum(shape), device=device),
                 _randn(k, m, seed=100 + sum(shape), device=device))


@pytest.mark.points(1)
def test_matmul_square(student, device):
    """Square matrices: rows of a times columns of b, not the other way round."""
    check_matmul(student, _randn(4, 4, seed=7, device=device), _randn(4, 4, seed=8, device=device))


@pytest.mark.points(2)
def test_matmul_float64(student, device):
    """float64 in, float64 out, accurate to 1e-9 (no computing in float32 or lower)."""
    a = _randn(5, 6, seed=11, device=device, dtype=torch.float64) * 100
    b = _randn(6, 3, seed=12, device=device, dtype=torch.float64)
    check_matmul(student, a, b)


def find_matmul_operator(sources: dict[str, str]) -> list[str]:
    """Where the source uses the ``@`` operator or ``@=`` (ast.MatMult)."""
    found = []
    for filename, text in sorted(sources.items()):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.MatMult):
                found.append(f"{filename}, line {node.lineno}: {ast.unparse(node)[:60]}")
    return found


@pytest.mark.points(3)
def test_matmul_from_scratch(student, device, student_sources):
    """No built-in matrix product anywhere: not `@`, torch.matmul, mm, bmm, einsum, not even indirectly."""
    operators = find_matmul_operator(student_sources)
    if operators:
        fail("The @ operator is a built-in matrix product and is forbidden in this exercise; use your own "
             "matmul. Your code uses it here: " + "; ".join(operators[:5]) + ".")
    a, b = _randn(3, 5, seed=21, device=device), _randn(5, 2, seed=22, device=device)
    inputs = _mlp_inputs(23, device)
    with student.recording_ops() as ops:
        check_matmul(student, a, b)
        student.lin(a, b, _randn(2, seed=24, device=device))
        student.mlp_forward_backward(*inputs)
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_ops=MATMUL_OPS,
                        forbidden_modules=["fastai"], what="matmul (and lin and the MLP that use it)")


# -- relu, lin, mse ----------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_relu(student, device, dtype):
    """relu keeps positives, zeroes negatives (and 0), keeps shape, dtype and device."""
    x = _randn(3, 5, 2, seed=31, device=device, dtype=dtype)
    x[0, 0, 0] = 0.0
    assert_tensor_close(student.relu(x), relu_ref(x), what=f"relu(x{tuple(x.shape)}, {dtype})", dtype=dtype,
                        device=device, hints={"negative values were kept and positive ones zeroed":
                                              lambda: f64(x).clamp_max(0)})


@pytest.mark.check_timeout(30)  # the first scenario call in a worker imports torch._inductor (seconds)
@pytest.mark.points(1)
def test_relu_leaves_input_alone(student, device):
    """relu returns a new tensor and does not change its input in place.

    Judged on values drawn here: relu's result, and the input as the scenario sees it afterwards
    (an in-place change exists only in the worker's memory, so the scenario's copy of x is the only
    place it shows).
    """
    x = _randn(4, 6, seed=32, device=device)
    seen = student.scenario("relu_keeps_input", x=x)
    assert_tensor_close(seen["out"], relu_ref(x), what="relu(x)", dtype=x.dtype, device=x.device)
    assert_tensor_close(seen["x_after"], f64(x), what="x after relu(x)", dtype=x.dtype, device=x.device,
                        hints={"relu changed its input in place (x[x < 0] = 0 or clamp_): return a new tensor "
                               "instead; the backward pass still needs the original values": lambda: relu_ref(x)})


@pytest.mark.points(2)
def test_lin(student, device):
    """lin(x, w, b) = x w + b with w shaped (in, out) and the bias broadcast over the batch."""
    x, w, b = _randn(5, 3, seed=41, device=device), _randn(3, 4, seed=42, device=device), \
        _randn(4, seed=43, device=device)
    assert_tensor_close(student.lin(x, w, b), lin_ref(x, w, b), what="lin(x(5, 3), w(3, 4), b(4,))",
                        dtype=x.dtype, device=x.device,
                        hints={"the bias is not added": lambda: lin_ref(x, w, 0 * b)})
    x, w, b = _randn(4, 6, seed=44, device=device, dtype=torch.float64), \
        _randn(6, 2, seed=45, device=device, dtype=torch.float64), _randn(2, seed=46, device=device,
                                                                         dtype=torch.float64)
    assert_tensor_close(student.lin(x, w, b), lin_ref(x, w, b), what="lin(x(4, 6), w(6, 2), b(2,)) in float64",
                        dtype=x.dtype, device=x.device, hints=with_precision({}, lin_ref(x, w, b), x.dtype))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mse(student, device, dtype):
    """mse(pred (n, 1), target (n,)) is a 0-dimensional mean over the n squared errors."""
    pred, target = _randn(7, 1, seed=51, device=device, dtype=dtype), _randn(7, seed=52, device=device, dtype=dtype)
    assert_tensor_close(student.mse(pred, target), mse_ref(pred, target), what="mse(pred(7, 1), target(7,))",
                        dtype=dtype, device=device,
                        hints=with_precision(mse_mistakes(pred, target), mse_ref(pred, target), dtype))


# -- the MLP -----------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("case", range(3))
def test_mlp_loss_and_gradients(student, device, case):
    """Loss and the four gradients of lin -> relu -> lin -> mse equal PyTorch autograd's."""
    check_mlp(student, _mlp_inputs(fresh_seed() % 10**6, device))


@pytest.mark.points(2)
def test_mlp_float64(student, device):
    """float64 in: loss and gradients in float64, accurate to 1e-9."""
    check_mlp(student, _mlp_inputs(fresh_seed() % 10**6, device, dtype=torch.float64, n=9, d=5, h=7))


@pytest.mark.points(2)
def test_mlp_relu_gradient_at_zero(student, device):
    """Where a hidden pre-activation is exactly 0, the ReLU passes no gradient (mask l > 0, as PyTorch)."""
    g = torch.Generator().manual_seed(fresh_seed())
    x = torch.randint(-2, 3, (6, 3), generator=g).float()
    w1 = torch.randint(-2, 3, (3, 5), generator=g).float()
    b1 = -(x[0] @ w1)  # every unit of sample 0 sits exactly at the kink; small integers are exact in float32
    b1[::2] += torch.randint(-1, 2, (3,), generator=g).float()
    w2 = torch.randn(5, 1, generator=g) + torch.where(torch.rand(5, 1, generator=g) > 0.5, 1.0, -1.0)
    b2, y = torch.randn(1, generator=g), torch.randn(6, generator=g)
    check_mlp(student, tuple(v.to(device) for v in (x, w1, b1, w2, b2, y)))


def find_autograd_uses(sources: dict[str, str]) -> list[str]:
    """Where the source reaches autograd: ``.backward()``, ``torch.autograd``, ``torch.func``, ``.grad_fn``."""
    found = []
    for filename, text in sorted(sources.items()):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            hit = None
            if isinstance(node, ast.Attribute) and node.attr in AUTOGRAD_ATTRS:
                hit = ast.unparse(node)
            elif isinstance(node, ast.Attribute) and node.attr == "func" and isinstance(node.value, ast.Name) \
                    and node.value.id == "torch":
                hit = "torch.func"
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith(AUTOGRAD_MODULES)]
                hit = f"import {names[0]}" if names else None
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                full = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                hit = f"from {node.module} import ..." if any(f.startswith(AUTOGRAD_MODULES) for f in full) else None
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in AUTOGRAD_ATTRS:
                hit = repr(node.value)
            if hit:
                found.append(f"{filename}, line {node.lineno}: {hit[:60]}")
    return found


@pytest.mark.points(2)
def test_no_autograd_in_source(student, device, student_sources):
    """The gradients are written by hand: no .backward(), torch.autograd or torch.func in the code."""
    uses = find_autograd_uses(student_sources)
    if uses:
        fail("Compute the gradients by hand with the chain rule: autograd (.backward(), torch.autograd, "
             "torch.func) is forbidden in this exercise. Your code uses: " + "; ".join(uses[:5]) + ".")
    check_mlp(student, _mlp_inputs(61, device))


@pytest.mark.check_timeout(30)  # the first scenario call in a worker imports torch._inductor (seconds)
@pytest.mark.points(3)
def test_gradients_without_autograd(student, device):
    """mlp_forward_backward gives the right gradients inside torch.inference_mode(), where autograd is off.

    The loss and gradients are judged here against autograd on fresh inputs. That the scenario ran
    under inference_mode, and the aten ops the worker recorded, are the worker's word: they can
    only make this check fail. The no-autograd rule itself is decided by the source scan of the
    gate test_from_scratch.
    """
    inputs = _mlp_inputs(fresh_seed() % 10**6, device)
    names = ("x", *PARAMS, "y")
    try:
        with student.recording_ops() as ops:
            seen = student.scenario("without_autograd", **dict(zip(names, inputs)))
    except StudentError as exc:
        if exc.is_a("NotImplementedError") or isinstance(exc, StudentImportError):
            raise
        fail("mlp_forward_backward failed inside torch.inference_mode(), where autograd is switched off: "
             f"{exc.type_name}: {exc.message[:300]}\nHand-written gradients work there; if your code uses "
             "autograd (.backward(), torch.autograd.grad), that is why. Compute the gradients yourself.")
    backward_ops = sorted(op for op in ops if op.endswith("_backward"))
    if backward_ops:
        fail(f"While mlp_forward_backward ran, autograd's {backward_ops[0]} was executed: the gradients must be "
             "computed by hand, not by autograd.")
    if type(seen) is not dict or type(seen.get("grads")) is not dict:
        fail("mlp_forward_backward must return a pair (loss, grads) with grads a dict.")
    check_mlp(student, inputs, result=(seen.get("loss"), seen["grads"]),
              where=" under torch.inference_mode()")


# -- SGD ---------------------------------------------------------------------------------

def _sgd_inputs(device):
    rng = torch.Generator().manual_seed(fresh_seed())
    shapes = {"w1": (3, 5), "b1": (5,), "w2": (5, 1), "b2": (1,)}
    params = {k: torch.randn(*s, generator=rng).to(device) for k, s in shapes.items()}
    grads = {k: torch.randn(*s, generator=rng).to(device) for k, s in shapes.items()}
    return params, grads


@pytest.mark.points(2)
def test_sgd_step(student, device):
    """sgd_step returns the parameters moved against the gradient: p - lr * g for every key."""
    params, grads = _sgd_inputs(device)
    lr = 0.37
    out = student.sgd_step(params, grads, lr)
    if type(out) is not dict or sorted(out) != sorted(params):
        fail(f"sgd_step(params, grads, lr) must return the dict params with the keys {', '.join(params)}.")
    for key in params:
        ref = f64(params[key]) - lr * f64(grads[key])
        hints = {"the step goes up the gradient (p + lr * g); descent is p - lr * g":
                 lambda k=key: f64(params[k]) + lr * f64(grads[k]),
                 "the learning rate is ignored": lambda k=key: f64(params[k]) - f64(grads[k])}
        assert_tensor_close(out[key], ref, what=f"sgd_step(...)[{key!r}] with lr={lr}", dtype=params[key].dtype,
                            device=device, hints=hints)


@pytest.mark.check_timeout(30)  # the first scenario call in a worker imports torch._inductor (seconds)
@pytest.mark.points(2)
def test_sgd_step_in_place(student, device):
    """sgd_step updates the caller's tensors in place and returns the same dict.

    Judged on values: the caller's own tensors after the call must hold p - lr * g, computed here on
    fresh data. (Whether a tensor was updated in place exists only in the worker's memory, so this
    is the one property the trusted process sees only through the scenario's copy of the caller's
    tensors; the values themselves must still be the SGD step.)
    """
    params, grads = _sgd_inputs(device)
    lr = 0.05
    seen = student.scenario("sgd_in_place", params=params, grads=grads, lr=lr)
    if type(seen) is not dict or type(seen.get("caller_tensors")) is not dict:
        fail("sgd_step could not be observed: it must return the dict params.")
    for key in params:
        ref = f64(params[key]) - lr * f64(grads[key])
        assert_tensor_close(seen["caller_tensors"].get(key), ref, what=f"the caller's tensor params[{key!r}] after "
                            "sgd_step", dtype=params[key].dtype, device=device,
                            hints={"the tensors were not updated in place (p = p - lr * g makes a new tensor; "
                                   "use p -= lr * g or p.sub_(...))": f64(params[key])})


# -- the rule ----------------------------------------------------------------------------

#: Autograd entry points (the source scan names them; find_autograd_uses catches .backward/.grad_fn too).
AUTOGRAD_NAMES = ["torch.autograd.grad", "torch.autograd.backward", "torch.autograd.functional.jacobian",
                  "torch.autograd.functional.vjp", "torch.func.grad", "torch.func.vjp", "torch.func.jacrev"]
#: aten ops that only autograd's backward pass runs.
BACKWARD_OPS = r"^aten::\w+_backward$"



@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No built-in matrix product and no autograd, not even indirectly (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking
    it voids all points of the exercise (a matmul that calls torch.matmul, or gradients from
    autograd, pass every value check). The verdict comes from the source scan of every file of the
    submission: the @ operator, the built-in matrix products, autograd (.backward(), torch.autograd,
    torch.func) and dynamic code that hides what is used. The aten ops the worker records while
    matmul, lin and mlp_forward_backward run are extra evidence only.
    """
    g = torch.Generator().manual_seed(fresh_seed())
    a, b = torch.randn(3, 5, generator=g).to(device), torch.randn(5, 2, generator=g).to(device)
    inputs = _mlp_inputs(fresh_seed() % 10**6, device)
    with student.recording_ops() as ops:
        quietly(lambda: student.matmul(a, b))
        quietly(lambda: student.lin(a, b, torch.randn(2, generator=g).to(device)))
        quietly(lambda: student.mlp_forward_backward(*inputs))
    operators = find_matmul_operator(student_sources)
    if operators:
        fail("The @ operator is a built-in matrix product and is forbidden in this exercise; use your own "
             "matmul. Your code uses it here: " + "; ".join(operators[:5]) + ".")
    uses = find_autograd_uses(student_sources)
    if uses:
        fail("Compute the gradients by hand with the chain rule: autograd (.backward(), torch.autograd, "
             "torch.func) is forbidden in this exercise. Your code uses: " + "; ".join(uses[:5]) + ".")
    libraries = {m for m in student.imported_modules() if m.split(".")[0] in ("fastai", "fasttransform")}
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN + AUTOGRAD_NAMES,
                        forbidden_ops=f"(?:{MATMUL_OPS})|(?:{BACKWARD_OPS})",
                        forbidden_modules=["fastai", "fasttransform", *AUTOGRAD_MODULES], modules_seen=libraries,
                        what="basics (matmul, lin and the MLP's gradients)")
