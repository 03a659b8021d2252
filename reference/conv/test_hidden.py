"""Hidden checks for `conv`: the student's conv2d against torch's, in float64.

Every input is non-square and every kernel too (H != W, kH != kW), so swapped axes show. The
inputs' values are drawn afresh on every grading run (``_SALT``): answers a submission recorded in
one run (its output is shown to the student) are of no use in the next.
"""

import random

import pytest
import torch

from grader.sandbox import WorkerError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from reference.conv.reference import EVERY_CONVOLUTION, FORBIDDEN, FORBIDDEN_MODULES, conv2d_ref, mistakes

#: aten ops that compute a convolution (every backend), but not e.g. ``aten::_convert_indices_from_coo_to_csr``.
CONV_OPS = r"convolution|::_?conv(\d|_)|slow_conv|thnn_conv"

#: Drawn once per grading run and mixed into every input's seed.
_SALT = fresh_seed()


def _randn(*shape, seed, device, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(_SALT + seed), dtype=dtype).to(device)


def check_conv(student, x, w, bias=None, **options):
    """Call the student's conv2d and compare with torch's; name a known mistake if it is one."""
    __tracebackhide__ = True
    call = "conv2d(x{}, w{}{}{})".format(
        tuple(x.shape), tuple(w.shape), ", bias" if bias is not None else "",
        "".join(f", {k}={v}" for k, v in options.items()))
    out = student.conv2d(x, w, bias=bias, **options) if bias is not None else student.conv2d(x, w, **options)
    assert_tensor_close(out, conv2d_ref(x, w, bias, **options), what=call, dtype=x.dtype, device=x.device,
                        hints=mistakes(x, w, bias, **options))


def _random_case(seed, device):
    rng = random.Random(seed)
    while True:
        n, c, o = rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 5)
        h, w = rng.sample(range(6, 14), 2)
        kh, kw = rng.sample(range(1, 5), 2)
        pick = lambda lo, hi: rng.randint(lo, hi) if rng.random() < 0.4 else (rng.randint(lo, hi), rng.randint(lo, hi))
        stride, padding, dilation = pick(1, 3), pick(0, 2), pick(1, 2)
        as_pair = lambda v: (v, v) if isinstance(v, int) else v
        (sh, sw), (ph, pw), (dh, dw) = as_pair(stride), as_pair(padding), as_pair(dilation)
        if h + 2 * ph - dh * (kh - 1) - 1 >= 0 and w + 2 * pw - dw * (kw - 1) - 1 >= 0:
            break
    x = _randn(n, c, h, w, seed=seed, device=device)
    weight = _randn(o, c, kh, kw, seed=seed + 1000, device=device)
    bias = _randn(o, seed=seed + 2000, device=device) if rng.random() < 0.7 else None
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation)


@pytest.mark.points(1)
@pytest.mark.parametrize("seed", range(6))
def test_random_configurations(student, device, seed):
    """Random shapes, channels, int and tuple stride/padding/dilation, with and without bias."""
    x, w, bias, options = _random_case(seed, device)
    check_conv(student, x, w, bias, **options)


@pytest.mark.points(2)
def test_cross_correlation_not_convolution(student, device):
    """The kernel is applied as it is, not flipped (cross-correlation)."""
    x, w = _randn(1, 1, 6, 7, seed=10, device=device), _randn(1, 1, 3, 2, seed=11, device=device)
    check_conv(student, x, w)


@pytest.mark.points(2)
def test_non_square_input_and_kernel(student, device):
    """kH != kW and H != W: height and width are not mixed up."""
    x, w = _randn(2, 2, 9, 5, seed=12, device=device), _randn(3, 2, 4, 1, seed=13, device=device)
    check_conv(student, x, w)
    check_conv(student, x.transpose(-2, -1).contiguous(), w.transpose(-2, -1).contiguous())


@pytest.mark.points(2)
def test_bias_per_output_channel(student, device):
    """Each output channel gets its own bias value."""
    x, w = _randn(2, 3, 6, 5, seed=14, device=device), _randn(4, 3, 2, 3, seed=15, device=device)
    check_conv(student, x, w, torch.tensor([1.0, -2.0, 3.0, 0.5], device=device))


@pytest.mark.points(1)
def test_bias_none(student, device):
    """`bias=None` (given or left out) means no bias."""
    x, w = _randn(1, 2, 5, 6, seed=16, device=device), _randn(2, 2, 2, 3, seed=17, device=device)
    check_conv(student, x, w)
    out = student.conv2d(x, w, bias=None)
    assert_tensor_close(out, conv2d_ref(x, w), what="conv2d(x, w, bias=None)", dtype=x.dtype, device=x.device)


@pytest.mark.points(2)
def test_sums_over_input_channels(student, device):
    """Every output channel sums the products over all input channels."""
    x, w = _randn(1, 5, 6, 7, seed=18, device=device), _randn(2, 5, 3, 2, seed=19, device=device)
    check_conv(student, x, w)


@pytest.mark.points(2)
def test_stride(student, device):
    """Stride as an int and as a (height, width) tuple."""
    x, w = _randn(2, 2, 11, 8, seed=20, device=device), _randn(3, 2, 3, 2, seed=21, device=device)
    check_conv(student, x, w, stride=2)
    check_conv(student, x, w, stride=(3, 1))


@pytest.mark.points(2)
def test_padding(student, device):
    """Zero padding on both sides, as an int and as a (height, width) tuple."""
    x, w = _randn(1, 2, 6, 9, seed=22, device=device), _randn(2, 2, 3, 4, seed=23, device=device)
    check_conv(student, x, w, padding=1)
    check_conv(student, x, w, padding=(2, 0))


@pytest.mark.points(2)
def test_dilation(student, device):
    """Dilation spreads the kernel: int and (height, width) tuple."""
    x, w = _randn(1, 2, 10, 9, seed=24, device=device), _randn(2, 2, 3, 2, seed=25, device=device)
    check_conv(student, x, w, dilation=2)
    check_conv(student, x, w, dilation=(1, 3), padding=(1, 2))


@pytest.mark.points(1)
def test_batch_of_one(student, device):
    """A batch of one image keeps its batch axis."""
    x, w = _randn(1, 3, 7, 6, seed=26, device=device), _randn(1, 3, 2, 3, seed=27, device=device)
    check_conv(student, x, w, _randn(1, seed=28, device=device))


@pytest.mark.points(1)
def test_keeps_dtype_and_device(student, device):
    """float32 in, float32 out; float64 in, float64 out; on the input's device."""
    for dtype in (torch.float32, torch.float64):
        x = _randn(2, 2, 6, 5, seed=29, device=device, dtype=dtype)
        w = _randn(3, 2, 3, 2, seed=30, device=device, dtype=dtype)
        check_conv(student, x, w, _randn(3, seed=31, device=device, dtype=dtype), padding=1)


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_full_precision(student, device, dtype):
    """Computed in the input's precision: no float16, bfloat16, TF32 or float32 shortcut, and cast back."""
    x = _randn(2, 8, 12, 11, seed=35, device=device, dtype=dtype)
    w = _randn(4, 8, 3, 4, seed=36, device=device, dtype=dtype)
    check_conv(student, x, w, _randn(4, seed=37, device=device, dtype=dtype), padding=(1, 2))


@pytest.mark.points(3)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No built-in convolution, direct or indirect (else no points)."""
    x, w = _randn(2, 2, 7, 6, seed=32, device=device), _randn(3, 2, 3, 2, seed=33, device=device)
    calls = [{}, {"bias": _randn(3, seed=34, device=device), "stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}]
    ran = False
    with student.recording_ops() as ops:  # only what runs matters here: the values are judged by the other checks
        for options in calls:
            try:
                student.conv2d(x, w, **options)
                ran = True
            except WorkerError:
                pass
    # The verdict: the source scan (every file, read in full). The aten ops are a tripwire on top.
    assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_ops=CONV_OPS,
                        forbidden_modules=FORBIDDEN_MODULES, modules_seen=student.imported_modules(), what="conv2d")
    assert_from_scratch((), student_sources, forbidden_names=EVERY_CONVOLUTION, what="conv2d")
    if not ran:
        fail("conv2d raised an error on every call, so it could not be checked that it is written from scratch.")
