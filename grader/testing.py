"""Assertions for checks. They run in the trusted grader process, never in the worker.

Messages say *what* differs (type, shape, dtype, device, first mismatching index and by how
much, which known mistake the result looks like) and never print the expected values.
"""

from __future__ import annotations

import contextlib
import math
import typing as t

import torch

from .sandbox import RemoteObject, StudentError, WorkerError
# The from-scratch rule lives in grader.scratch; checks import it from here.
from .scratch import (Sources, assert_from_scratch, find_dynamic_code, find_forbidden_imports,  # noqa: F401
                      find_forbidden_names, find_indirect_imports, find_outside_imports, read_sources)

__all__ = [
    "quietly",
    "CheckFailed", "fail", "tolerances", "assert_tensor_close", "assert_int", "student_raises",
    "assert_from_scratch", "find_forbidden_names", "precision_hints", "LOWER_PRECISION", "find_forbidden_imports",
    "find_indirect_imports", "find_dynamic_code", "find_outside_imports", "read_sources", "Sources",
]


class CheckFailed(AssertionError):
    """A check found a wrong result. ``str()`` is the message the student sees."""


def fail(message: str) -> t.NoReturn:
    """Fail the current check with ``message``."""
    __tracebackhide__ = True
    raise CheckFailed(message)


#: Relative tolerance per result dtype (EXERCISES.md); atol is the same number times max(1, max|ref|).
#: The same on every device: the grader forces IEEE fp32 on CUDA, so CUDA needs nothing looser.
TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 1e-3, torch.bfloat16: 1e-2}


def tolerances(expected: torch.Tensor, dtype: torch.dtype | None = None) -> tuple[float, float]:
    """``(rtol, atol)`` for a result that must have ``dtype`` (default ``expected.dtype``).

    float32: rtol 1e-4, atol 1e-4 * max(1, max|ref|); float64: 1e-9 likewise. A float64 call
    computed in float32 (or float16, bfloat16, TF32) and cast back therefore fails.
    """
    rel = TOLERANCE.get(dtype or expected.dtype, 1e-4)
    peak = float(expected.detach().abs().max()) if expected.numel() else 0.0
    peak = peak if math.isfinite(peak) else 1.0
    return rel, rel * max(1.0, peak)


def _type_name(value: object) -> str:
    if isinstance(value, RemoteObject):
        return value.remote_type
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _close_mask(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> torch.Tensor:
    a, e = actual.detach().to("cpu", torch.float64), expected.detach().to("cpu", torch.float64)
    ok = (a - e).abs() <= atol + rtol * e.abs()
    return ok | (a.isnan() & e.isnan()) | ((a == e) & e.isinf())


def _matches(actual: torch.Tensor, candidate: torch.Tensor, rtol: float, atol: float) -> bool:
    return actual.shape == candidate.shape and bool(_close_mask(actual, candidate, rtol, atol).all())


def assert_tensor_close(
    actual: object,
    expected: torch.Tensor,
    *,
    what: str = "the result",
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    hints: t.Mapping[str, torch.Tensor | t.Callable[[], torch.Tensor]] | None = None,
) -> None:
    """Fail unless ``actual`` is a plain tensor equal to ``expected`` within the course tolerances.

    :param what: how to name the value in messages, e.g. ``"conv2d(x, w, stride=2)"``.
    :param dtype: the dtype the result must have (default: ``expected.dtype``); references are
        often computed in float64, so pass the input's dtype here.
    :param device: the device the result must be on (default: ``expected.device``).
    :param hints: known mistakes, as ``{"description": wrong_result}``; when the result matches
        one of them the message names the mistake. Values may be zero-argument callables, which
        are only evaluated when the result is wrong.
    """
    __tracebackhide__ = True
    if isinstance(actual, RemoteObject) or type(actual) not in (torch.Tensor, torch.nn.Parameter):
        fail(f"{what} returned a {_type_name(actual)}, but a plain torch.Tensor is expected.")
    assert isinstance(actual, torch.Tensor)
    want_dtype = dtype or expected.dtype
    want_device = torch.device(device) if device is not None else expected.device
    if actual.shape != expected.shape:
        message = (f"{what} has shape {tuple(actual.shape)}, but shape {tuple(expected.shape)} is expected.")
        if actual.dim() == expected.dim() and sorted(actual.shape) == sorted(expected.shape):
            message += " Two axes look swapped (height and width?)."
        fail(message + _hint(actual, expected, hints, 1e-4, 1e-4))
    if actual.dtype != want_dtype:
        fail(f"{what} has dtype {actual.dtype}, but the input was {want_dtype}: keep the input's dtype.")
    if actual.device.type != want_device.type:
        fail(f"{what} is on {actual.device}, but the input was on {want_device}: keep the input's device.")
    default_rtol, default_atol = tolerances(expected, want_dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    ok = _close_mask(actual, expected, rtol, atol)
    if bool(ok.all()):
        return
    bad = (~ok).nonzero()
    first = tuple(int(i) for i in bad[0]) if bad.numel() else ()
    diff = (actual.detach().to("cpu", torch.float64) - expected.detach().to("cpu", torch.float64)).abs()
    at = diff[first] if first else diff
    magnitude = "is NaN" if torch.isnan(actual.detach().cpu()[first] if first else actual.detach().cpu()) \
        else f"is off by {float(at):.3g}"
    message = (f"{what} has wrong values: {len(bad)} of {actual.numel()} elements differ "
               f"(tolerance {atol:.1e} + {rtol:.0e}·|expected|). First at index {first}: your value {magnitude}.")
    fail(message + _hint(actual, expected, hints, rtol, atol))


def _hint(actual: torch.Tensor, expected: torch.Tensor,
          hints: t.Mapping[str, torch.Tensor | t.Callable[[], torch.Tensor]] | None, rtol: float, atol: float) -> str:
    for description, candidate in (hints or {}).items():
        try:
            value = candidate() if callable(candidate) else candidate
        except Exception:
            continue
        if isinstance(value, torch.Tensor) and _matches(actual, value, max(rtol, 1e-4), max(atol, 1e-4)):
            return f"\nIt looks like {description}."
    return ""


#: The hint for a float64 result that is only float32-accurate (see :func:`precision_hints`).
LOWER_PRECISION = ("the result is only about float32-accurate: part of it was computed in float32 (or float16/bfloat16, "
                   "or TF32) instead of the input's float64")


def precision_hints(hints: t.Mapping[str, t.Any], expected: torch.Tensor,
                    dtype: torch.dtype) -> dict[str, t.Callable[[], torch.Tensor | None]]:
    """``hints`` without those too close to the right answer to tell apart, plus a precision hint for float64.

    Hints are matched within 1e-4, so a mistake that changes a float64 result by less than that (eps
    outside the square root, on ordinary data) would be named for any slightly-off result. The
    precision hint is the right answer itself: a float64 result that misses 1e-9 but meets 1e-4 was
    computed in lower precision.
    """
    exp = expected.detach().to("cpu", torch.float64)
    tol = 1e-4 * max(1.0, float(exp.abs().max())) if exp.numel() else 1e-4

    def distinct(candidate: t.Any) -> t.Callable[[], torch.Tensor | None]:
        def value() -> torch.Tensor | None:
            v = candidate() if callable(candidate) else candidate
            if isinstance(v, torch.Tensor) and v.shape == exp.shape and torch.allclose(
                    v.detach().to("cpu", torch.float64), exp, rtol=1e-4, atol=tol):
                return None
            return v
        return value

    out = {d: distinct(c) for d, c in hints.items()}
    if dtype == torch.float64:
        out[LOWER_PRECISION] = lambda: exp
    return out


def assert_int(actual: object, expected: int, *, what: str, hints: t.Mapping[str, int] | None = None) -> None:
    """Fail unless ``actual`` is an ``int`` equal to ``expected`` (bool and float are not ints)."""
    __tracebackhide__ = True
    if type(actual) is not int:
        extra = " (use // for floor division, or math.floor)" if type(actual) is float else ""
        fail(f"{what} returned a {_type_name(actual)}, but an int is expected{extra}.")
    if actual != expected:
        message = f"{what} returned {actual}, which is wrong."
        for description, value in (hints or {}).items():
            if value == actual:
                message += f" It looks like {description}."
                break
        fail(message)


def quietly(call: t.Callable[[], t.Any], errors: tuple[type[BaseException], ...] = (WorkerError,)) -> t.Any:
    """``call()``, or ``None`` when it raised one of ``errors`` (by default: the student's code raised,
    or its worker crashed). For gates that run the student's code only so that the worker's records
    see it: whether the code works is the other checks' business."""
    try:
        return call()
    except errors:
        return None


@contextlib.contextmanager
def student_raises(exception: str, what: str = "the call") -> t.Iterator[None]:
    """Expect the student's code in the block to raise the builtin ``exception`` (or a subclass)."""
    __tracebackhide__ = True
    try:
        yield
    except StudentError as exc:
        if exc.is_a(exception):
            return
        fail(f"{what} raised {exc.type_name}, but it should raise {exception}.")
    fail(f"{what} returned normally, but it should raise {exception}.")

