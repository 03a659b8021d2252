"""Hidden checks for `pooling`: the student's pooling against torch's (and fastai's concat pool).

References are computed in float64 here. Inputs and kernels are non-square (H != W, kH != kW),
so swapped axes show; gradients are compared with torch's autograd on the same tensors. The
inputs' values are drawn afresh on every grading run (``_SALT``), so answers recorded in one run
are no use in the next.
"""

import random

import pytest
import torch

from grader.sandbox import WorkerError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from reference.pooling.reference import (EVERY_POOLING, FORBIDDEN, FORBIDDEN_MODULES, adaptive_avg_ref,
                                         adaptive_mistakes, avg_mistakes, avg_pool_ref, concat_mistakes,
                                         concat_pool_ref, max_mistakes, max_pool_ref, pair, precision_hints)

#: aten ops of every built-in pooling (max_pool2d_with_indices, avg_pool2d, _adaptive_avg_pool2d, ...).
POOL_OPS = r"pool"

#: Drawn once per grading run and mixed into every input's seed.
_SALT = fresh_seed()


def _randn(*shape, seed, device, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(_SALT + seed), dtype=dtype).to(device)


def _options(options):
    return "".join(f", {k}={v}" for k, v in options.items())


def check_max(student, x, kernel_size, **options):
    __tracebackhide__ = True
    hints = {**max_mistakes(x, kernel_size, **options),
             **precision_hints(x, lambda y: max_pool_ref(y, kernel_size, **options))}
    assert_tensor_close(student.max_pool2d(x, kernel_size, **options), max_pool_ref(x, kernel_size, **options),
                        what=f"max_pool2d(x{tuple(x.shape)}, {kernel_size}{_options(options)})",
                        dtype=x.dtype, device=x.device, hints=hints)


def check_avg(student, x, kernel_size, **options):
    __tracebackhide__ = True
    hints = {**avg_mistakes(x, kernel_size, **options),
             **precision_hints(x, lambda y: avg_pool_ref(y, kernel_size, **options))}
    assert_tensor_close(student.avg_pool2d(x, kernel_size, **options), avg_pool_ref(x, kernel_size, **options),
                        what=f"avg_pool2d(x{tuple(x.shape)}, {kernel_size}{_options(options)})",
                        dtype=x.dtype, device=x.device, hints=hints)


def check_adaptive(student, x, output_size):
    __tracebackhide__ = True
    hints = {**adaptive_mistakes(x, output_size), **precision_hints(x, lambda y: adaptive_avg_ref(y, output_size))}
    assert_tensor_close(student.adaptive_avg_pool2d(x, output_size), adaptive_avg_ref(x, output_size),
                        what=f"adaptive_avg_pool2d(x{tuple(x.shape)}, {output_size})",
                        dtype=x.dtype, device=x.device, hints=hints)


def check_concat(student, x, *size):
    __tracebackhide__ = True
    pool = student.AdaptiveConcatPool2d(*size)
    call = f"AdaptiveConcatPool2d({', '.join(map(str, size))})(x{tuple(x.shape)})"
    hints = {**concat_mistakes(x, *size), **precision_hints(x, lambda y: concat_pool_ref(y, *size))}
    assert_tensor_close(pool(x), concat_pool_ref(x, *size), what=call, dtype=x.dtype, device=x.device, hints=hints)


def _random_window(seed):
    """A random non-square case: (h, w), kernel, stride (None or int or tuple), padding <= kernel // 2."""
    rng = random.Random(seed)
    kh, kw = rng.sample(range(1, 5), 2)
    h, w = rng.sample(range(max(kh, kw) + 2, 14), 2)
    kernel = (kh, kw) if rng.random() < 0.7 else max(kh, kw)
    k = pair(kernel)
    stride = rng.choice([None, rng.randint(1, 3), (rng.randint(1, 3), rng.randint(1, 3))])
    padding = rng.choice([0, min(k) // 2, (k[0] // 2, k[1] // 2)])
    return (h, w), kernel, stride, padding


# -- max_pool2d ---------------------------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("seed", range(4))
def test_max_pool_random(student, device, seed):
    """max_pool2d: random non-square inputs and kernels, int and tuple kernel/stride/padding."""
    (h, w), kernel, stride, padding = _random_window(seed)
    x = _randn(2, 3, h, w, seed=seed, device=device)
    check_max(student, x, kernel, stride=stride, padding=padding)


@pytest.mark.points(2)
def test_max_pool_default_stride(student, device):
    """max_pool2d: without a stride, the stride is the kernel size (windows do not overlap)."""
    x = _randn(2, 2, 9, 8, seed=10, device=device)
    check_max(student, x, (3, 2))
    out = student.max_pool2d(x, 2)
    assert_tensor_close(out, max_pool_ref(x, 2), what="max_pool2d(x(2, 2, 9, 8), 2)", dtype=x.dtype,
                        device=x.device, hints=max_mistakes(x, 2))


@pytest.mark.points(2)
def test_max_pool_pads_with_minus_infinity(student, device):
    """max_pool2d: padding never wins a window, also when every input value is negative."""
    x = -_randn(1, 2, 7, 6, seed=11, device=device).abs() - 0.5
    check_max(student, x, 3, stride=2, padding=1)
    check_max(student, x, (2, 3), stride=1, padding=(1, 1))


# -- avg_pool2d ---------------------------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("seed", range(4))
def test_avg_pool_random(student, device, seed):
    """avg_pool2d: random non-square inputs and kernels, int and tuple kernel/stride/padding."""
    (h, w), kernel, stride, padding = _random_window(100 + seed)
    x = _randn(2, 3, h, w, seed=100 + seed, device=device)
    check_avg(student, x, kernel, stride=stride, padding=padding, count_include_pad=seed % 2 == 0)


@pytest.mark.points(2)
def test_avg_pool_default_stride(student, device):
    """avg_pool2d: without a stride, the stride is the kernel size (windows do not overlap)."""
    x = _randn(2, 2, 8, 9, seed=12, device=device)
    check_avg(student, x, (2, 3))
    check_avg(student, x, 3, padding=1)


@pytest.mark.points(2)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_count_include_pad(student, device, count_include_pad):
    """avg_pool2d with padding: the divisor with and without the padded positions."""
    x = _randn(2, 3, 7, 6, seed=13, device=device) + 2.0  # positive: a wrong divisor shows clearly
    check_avg(student, x, 3, stride=2, padding=1, count_include_pad=count_include_pad)
    check_avg(student, x, (2, 3), stride=(1, 2), padding=(1, 1), count_include_pad=count_include_pad)


# -- adaptive_avg_pool2d ------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("in_size, out_size", [((7, 10), (3, 4)), ((9, 5), (4, 3)), ((13, 11), (5, 7)),
                                               ((4, 5), (6, 7))])
def test_adaptive_bins(student, device, in_size, out_size):
    """adaptive_avg_pool2d: sizes that do not divide (unequal, overlapping bins; more outputs than inputs)."""
    x = _randn(2, 3, *in_size, seed=sum(in_size), device=device)
    check_adaptive(student, x, out_size)


@pytest.mark.points(2)
def test_adaptive_int_and_tuple(student, device):
    """adaptive_avg_pool2d: an int output size (square output of a non-square input), 1 and a tuple."""
    x = _randn(2, 4, 10, 7, seed=14, device=device)
    check_adaptive(student, x, 3)
    check_adaptive(student, x, 1)
    check_adaptive(student, x, (5, 2))
    check_adaptive(student, x, (10, 7))


# -- AdaptiveConcatPool2d -----------------------------------------------------------------------------

@pytest.mark.points(3)
def test_concat_pool(student, device):
    """AdaptiveConcatPool2d: max first, then average, on the channel axis; default size 1, int and tuple."""
    x = _randn(2, 3, 9, 7, seed=15, device=device)
    check_concat(student, x)
    check_concat(student, x, 2)
    check_concat(student, x, (3, 2))


# -- gradients ----------------------------------------------------------------------------------------

REFERENCES = {"max_pool2d": max_pool_ref, "avg_pool2d": avg_pool_ref, "adaptive_avg_pool2d": adaptive_avg_ref,
              "AdaptiveConcatPool2d": concat_pool_ref}
MISTAKES = {"max_pool2d": max_mistakes, "avg_pool2d": avg_mistakes, "adaptive_avg_pool2d": adaptive_mistakes,
            "AdaptiveConcatPool2d": concat_mistakes}
GRADIENT_CASES = {
    "max_pool2d": ((9, 8), ((3, 2),), {"stride": (2, 1), "padding": (1, 1)}),
    "avg_pool2d": ((9, 8), ((2, 3),), {"stride": (1, 2), "padding": (1, 1), "count_include_pad": False}),
    "adaptive_avg_pool2d": ((9, 7), ((4, 3),), {}),
    "AdaptiveConcatPool2d": ((9, 7), ((3, 2),), {}),
}


@pytest.mark.points(2)
@pytest.mark.parametrize("op", list(GRADIENT_CASES))
def test_gradients(student, reference, device, op):
    """Gradients flow through your pooling as through torch's (backward run in the sandbox)."""
    (h, w), args, kwargs = GRADIENT_CASES[op]
    seed = fresh_seed()
    x = _randn(2, 3, h, w, seed=seed, device=device, dtype=torch.float64)
    shape = REFERENCES[op](x, *args, **kwargs).shape
    grad_out = _randn(*shape, seed=seed + 1, device=device, dtype=torch.float64)
    want = reference.scenario("backward", seed=seed, op=op, x=x, grad_out=grad_out, args=args, kwargs=kwargs)
    got = student.scenario("backward", seed=seed, op=op, x=x, grad_out=grad_out, args=args, kwargs=kwargs)
    if op == "AdaptiveConcatPool2d":
        call = f"AdaptiveConcatPool2d({', '.join(map(str, args))})(x{tuple(x.shape)})"
    else:
        call = f"{op}(x{tuple(x.shape)}, {', '.join(map(str, args))}{_options(kwargs)})"
    if not isinstance(got, dict) or set(got) != {"out", "grad"}:
        fail(f"the backward scenario for {call} did not return its result dict.")
    assert_tensor_close(got["out"], want["out"], what=call, dtype=x.dtype, device=x.device,
                        hints={**MISTAKES[op](x, *args, **kwargs),
                               **precision_hints(x, lambda y: REFERENCES[op](y, *args, **kwargs))})
    if got["grad"] is None:
        fail(f"{call} is not connected to x by autograd (no gradient reaches x): build the result from "
             "differentiable tensor operations, without torch.no_grad(), .detach(), .item() or numpy.")
    assert_tensor_close(got["grad"], want["grad"], what=f"the gradient of x through {call}", dtype=x.dtype,
                        device=x.device)


# -- precision and dtype ------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_precision_and_dtype(student, device, dtype):
    """float32 in, float32 out; float64 in, float64 out: computed in the input's precision."""
    x = _randn(2, 3, 11, 9, seed=16, device=device, dtype=dtype) * 3 + 1
    check_max(student, x, (3, 2), padding=1)
    check_avg(student, x, (3, 2), stride=(2, 1), padding=1, count_include_pad=False)
    check_adaptive(student, x, (4, 5))
    check_concat(student, x, (2, 3))


# -- from scratch -------------------------------------------------------------------------------------

@pytest.mark.points(3)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No built-in pooling (torch or fastai), direct or indirect (else no points)."""
    x = _randn(2, 3, 8, 6, seed=17, device=device)
    calls = {  # simple arguments: only what runs matters here, the values are judged by the other checks
        "max_pool2d": lambda: student.max_pool2d(x, 2),
        "avg_pool2d": lambda: student.avg_pool2d(x, 2),
        "adaptive_avg_pool2d": lambda: student.adaptive_avg_pool2d(x, 2),
        "AdaptiveConcatPool2d": lambda: student.AdaptiveConcatPool2d()(x),
    }
    ran = []
    with student.recording_ops() as ops:
        for name, call in calls.items():
            try:
                call()
                ran.append(name)
            except WorkerError:
                pass
    # The verdict: the source scan (every file, read in full). The aten ops and modules are a tripwire on top.
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_ops=POOL_OPS,
                        forbidden_modules=FORBIDDEN_MODULES, modules_seen=student.imported_modules(),
                        what="pooling")
    assert_from_scratch((), student_sources, forbidden_names=EVERY_POOLING, what="pooling")
    if not ran:
        fail("None of max_pool2d, avg_pool2d, adaptive_avg_pool2d and AdaptiveConcatPool2d ran without an "
             "error, so nothing could be checked.")
