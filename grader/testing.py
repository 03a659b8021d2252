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
    "assert_from_scratch", "find_forbidden_names", "precision_hints", "LOWER_PRECISION", "find_forbidden_imports", "find_indirect_imports",
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
            elif (isinstance(node, ast.ImportFrom) and node.level == 0  # not the student's own `from .x`
                  and (node.module or "").split(".")[0] in roots):  # nor `from mypackage import conv2d`
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


#: Calls that import or run code by a computed name, so that no source scan can see what they reach.
_INDIRECT_CALLS = {"__import__", "exec", "eval", "compile"}


def find_indirect_imports(sources: t.Mapping[str, str]) -> list[str]:
    """Where the student's source imports or runs code by a name computed at run time.

    Flags ``__import__``, ``importlib``, ``exec``/``eval``/``compile``, ``sys.modules[...]`` and
    ``getattr(module, name)`` with a computed ``name`` on an imported module. In exercises that
    forbid a library part these are violations on their own: they exist to hide what is used.
    """
    found: list[str] = []
    for filename, text in sorted(sources.items()):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        modules = _imported_module_names(tree)
        for node in ast.walk(tree):
            hit = None
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "importlib" for a in node.names):
                hit = "import importlib"
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "importlib":
                hit = f"from {node.module} import ..."
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else None
                if isinstance(func, ast.Attribute) and (func.attr in ("import_module", "__import__") or (
                        func.attr in _INDIRECT_CALLS and isinstance(func.value, ast.Name)
                        and func.value.id == "builtins")):
                    name = func.attr
                if name in _INDIRECT_CALLS or name == "import_module":
                    hit = f"{name}(...)"
                elif (name == "getattr" and len(node.args) >= 2 and isinstance(node.args[0], ast.Name)
                      and node.args[0].id in modules and not isinstance(node.args[1], ast.Constant)):
                    hit = f"getattr({node.args[0].id}, <computed name>)"
            elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
                  and node.value.attr == "modules" and isinstance(node.value.value, ast.Name)
                  and node.value.value.id == "sys"):
                hit = "sys.modules[...]"
            if hit:
                found.append(f"{filename}, line {getattr(node, 'lineno', '?')}: {hit}")
    return found


def find_forbidden_imports(sources: t.Mapping[str, str], modules: t.Collection[str]) -> list[str]:
    """Where the student's source imports a forbidden module (``fastai.learner``) or a part of it.

    ``modules`` are dotted prefixes: ``"fastai"`` forbids ``import fastai.vision.all`` and
    ``from fastai.learner import Learner`` alike, star imports included.
    """
    def forbidden(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in modules)

    found: list[str] = []
    for filename, text in sorted(sources.items()):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            hit = None
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if forbidden(a.name)]
                hit = f"import {names[0]}" if names else None
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                parts = [f"{node.module}.{a.name}" for a in node.names]
                if forbidden(node.module) or any(forbidden(p) for p in parts):
                    hit = f"from {node.module} import {', '.join(a.name for a in node.names)[:60]}"
            if hit:
                found.append(f"{filename}, line {getattr(node, 'lineno', '?')}: {hit}")
    return found


def _imported_module_names(tree: ast.AST) -> set[str]:
    names = {"sys", "builtins"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def assert_from_scratch(
    ops_seen: t.Collection[str],
    sources: t.Mapping[str, str],
    *,
    forbidden_names: t.Collection[str],
    forbidden_ops: str | None = None,
    forbidden_modules: t.Collection[str] = (),
    modules_seen: t.Collection[str] = (),
    what: str = "this exercise",
) -> None:
    """Fail when the student's code used a forbidden API, by name in its source or at run time.

    :param ops_seen: aten op names recorded while the student's code ran (``student.recording_ops``).
    :param forbidden_ops: a regular expression for aten op names (e.g. ``"convolution"``); this
        catches indirect calls (getattr tricks, ``torch.ops.aten``) that no source scan sees.
    :param forbidden_modules: dotted module prefixes the student may not import at all (``"fastai"``
        where fastai is the reference). With them, indirect imports (``__import__``, ``importlib``,
        ``exec``, computed ``getattr`` on a module) are violations too.
    :param modules_seen: modules the worker imported (``student.imported_modules()``), a tripwire.
    """
    __tracebackhide__ = True
    mentions = find_forbidden_names(sources, forbidden_names)
    if forbidden_modules:
        mentions += find_forbidden_imports(sources, forbidden_modules)
        mentions += [f"{m} (indirect imports hide what is used)" for m in find_indirect_imports(sources)]
    ran = sorted(op for op in ops_seen if re.search(forbidden_ops, op)) if forbidden_ops else []
    loaded = sorted(m for m in modules_seen
                    if any(m == f or m.startswith(f + ".") for f in forbidden_modules))
    if not mentions and not ran and not loaded:
        return
    names = ", ".join(sorted({*forbidden_names, *forbidden_modules}))
    lines = [f"{what} must be written from scratch; these are forbidden: {names}."]
    if mentions:
        lines.append("Your code uses: " + "; ".join(dict.fromkeys(mentions[:5])) + ".")
    if ran:
        lines.append(f"While your code ran, the forbidden operation {', '.join(ran[:5])} was executed "
                     "(that is what the forbidden functions call underneath).")
    if loaded:
        lines.append(f"While your code ran, the forbidden module {loaded[0]} was imported.")
    fail("\n".join(lines))
