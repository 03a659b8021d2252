"""Assertions for checks. They run in the trusted grader process, never in the worker.

Messages say *what* differs (type, shape, dtype, device, first mismatching index and by how
much, which known mistake the result looks like) and never print the expected values.
"""

from __future__ import annotations

import ast
import contextlib
import math
import re
import typing as t

import torch

from .sandbox import RemoteObject, StudentError

__all__ = [
    "CheckFailed", "fail", "tolerances", "assert_tensor_close", "assert_int", "student_raises",
    "assert_from_scratch", "find_forbidden_names",
]


class CheckFailed(AssertionError):
    """A check found a wrong result. ``str()`` is the message the student sees."""


def fail(message: str) -> t.NoReturn:
    """Fail the current check with ``message``."""
    __tracebackhide__ = True
    raise CheckFailed(message)


def tolerances(expected: torch.Tensor, device: torch.device | str | None = None) -> tuple[float, float]:
    """The course's tolerances: rtol 1e-4, atol 1e-4 * max(1, max|ref|); 10x on CUDA."""
    scale = 10.0 if torch.device(device or expected.device).type == "cuda" else 1.0
    peak = float(expected.detach().abs().max()) if expected.numel() else 0.0
    peak = peak if math.isfinite(peak) else 1.0
    return 1e-4 * scale, 1e-4 * max(1.0, peak) * scale


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
    default_rtol, default_atol = tolerances(expected, want_device)
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




def find_forbidden_names(sources: t.Mapping[str, str], forbidden: t.Collection[str]) -> list[str]:
    """Where the student's source *mentions* a forbidden API (attribute, import or getattr string).

    ``forbidden`` holds dotted names (``"torch.nn.functional.conv2d"``); a mention of the last part
    as an attribute (``F.conv2d``), an import (``from torch.nn.functional import conv2d``) or a
    string handed to ``getattr`` counts. The student's own ``def conv2d`` does not.
    """
    leaves = {name.rsplit(".", 1)[-1]: name for name in forbidden}
    roots = {name.split(".", 1)[0] for name in forbidden}
    found: list[str] = []
    for filename, text in sorted(sources.items()):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        aliases = _library_aliases(tree, roots)
        for node in ast.walk(tree):
            hit = None
            if isinstance(node, ast.Attribute) and node.attr in leaves and _chain_root(node) in aliases:
                hit = f"{ast.unparse(node)}"
            elif isinstance(node, ast.ImportFrom) and node.level == 0:  # not the student's own `from .x`
                names = [a.name for a in node.names if a.name in leaves]
                hit = f"from {node.module} import {names[0]}" if names else None
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                  and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                  and node.args[1].value in leaves):
                hit = ast.unparse(node)
            if hit:
                found.append(f"{filename}, line {getattr(node, 'lineno', '?')}: {hit}")
    return found


def _library_aliases(tree: ast.AST, roots: set[str]) -> set[str]:
    """Names bound to the forbidden libraries: ``torch``, ``F`` in ``import torch.nn.functional as F``…"""
    names = set(roots)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".", 1)[0] in roots:
                    names.add(alias.asname or alias.name.split(".", 1)[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in roots:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _chain_root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def assert_from_scratch(
    ops_seen: t.Collection[str],
    sources: t.Mapping[str, str],
    *,
    forbidden_names: t.Collection[str],
    forbidden_ops: str,
    what: str = "this exercise",
) -> None:
    """Fail when the student's code used a forbidden API, by name in its source or at run time.

    :param ops_seen: aten op names recorded while the student's code ran (``student.recording_ops``).
    :param forbidden_ops: a regular expression for aten op names (e.g. ``"convolution"``); this
        catches indirect calls (getattr tricks, ``torch.ops.aten``) that no source scan sees.
    """
    __tracebackhide__ = True
    mentions = find_forbidden_names(sources, forbidden_names)
    pattern = re.compile(forbidden_ops)
    ran = sorted(op for op in ops_seen if pattern.search(op))
    if not mentions and not ran:
        return
    names = ", ".join(sorted(forbidden_names))
    lines = [f"{what} must be written from scratch; these are forbidden: {names}."]
    if mentions:
        lines.append("Your code uses: " + "; ".join(mentions[:5]) + ".")
    if ran:
        lines.append(f"While your code ran, the forbidden operation {', '.join(ran[:5])} was executed "
                     "(that is what the forbidden functions call underneath).")
    fail("\n".join(lines))
