"""What the student's classes are built on and which library objects the code reaches, read here
from the source: never from what the worker reports about itself.

A worker can answer any question about its classes (``__mro__``, ``__bases__``, ``__module__`` are
the student's to patch), so the trusted process decides from the submission's text. It resolves
the names the text uses against the libraries installed *here*, so ``class
Module(torch.nn.Identity.__base__)`` is found to be built on ``torch.nn.Module`` although no
forbidden name appears in it, and ``torch._C._nn.cross_entropy_loss`` is found to be a cross
entropy. Where it matters the rule fails closed: a base class, metaclass or decorator of one of
the exercise's classes that is computed at run time cannot be checked, and is reported.

Only this process imports this module (and only library modules it already trusts: nothing of
the submission is imported or run here). Used by the hidden checks of ``learner``,
``transforms`` and ``callbacks`` (:func:`assert_built_from_scratch`).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import inspect
import re
import sys
import typing as t
from dataclasses import dataclass
from pathlib import PurePosixPath

from grader.testing import fail

__all__ = ["find_borrowed", "assert_built_from_scratch", "assert_all", "INTROSPECTION"]

#: Attributes that look into a class's or a function's internals. A from-scratch exercise never
#: needs them; they are how a forbidden class is reached without its name (``X.__base__``,
#: ``f.__globals__["Pipeline"]``, ``object.__subclasses__()``).
INTROSPECTION = frozenset({"__mro__", "__bases__", "__base__", "__subclasses__", "__globals__", "__closure__",
                           "__code__", "__builtins__", "__wrapped__", "__func__", "__self__", "__loader__",
                           "__spec__", "__getattribute__", "__reduce__", "__reduce_ex__", "__objclass__",
                           "__defaults__", "__kwdefaults__", "__mro_entries__"})
#: Standard-library decorators and metaclasses that leave a class what its statement says.
_SAFE_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins"}
#: Library roots this process may import to resolve a name (others only if already imported).
_IMPORTABLE = ("torch", "fasttransform", "fastcore")


@dataclass(frozen=True)
class _Lib:
    """A library object, resolved in this process."""
    obj: t.Any


@dataclass(frozen=True)
class _Own:
    """A class or function the submission defines."""
    node: ast.AST
    file: "_File"


@dataclass(frozen=True)
class _OwnModule:
    file: "_File"


_UNKNOWN = None  # what cannot be resolved statically


def _qualname(obj: t.Any) -> str:
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", None) or getattr(getattr(obj, "__objclass__", None), "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return f"{module}.{name}" if module else str(name)


def _module_name(obj: t.Any) -> str:
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(getattr(obj, "__objclass__", None), "__module__", None)
    return module if isinstance(module, str) else ""


def _under(name: str, prefixes: t.Collection[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _target_names(target: ast.AST) -> list[str]:
    """The names an assignment target binds (``a``, ``a, b``), not those it only reads (``a.x = …``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _target_names(e)]
    return []


class _File:
    """One source file of the submission: its module name and its module-level bindings."""

    def __init__(self, path: str, tree: ast.Module, package: str) -> None:
        self.path, self.tree = path, tree
        parts = list(PurePosixPath(path.replace("\\", "/")).with_suffix("").parts)
        self.is_package = bool(parts) and parts[-1] == "__init__"
        if self.is_package:
            parts = parts[:-1]
        self.module = ".".join([package, *parts])
        self.package = self.module if self.is_package else self.module.rpartition(".")[0] or package
        #: name -> the statements that bind it at module level, in order
        self.bindings: dict[str, list[ast.AST]] = {}
        self._collect(tree.body)

    def _bind(self, name: str, node: ast.AST) -> None:
        self.bindings.setdefault(name, []).append(node)

    def _collect(self, body: t.Sequence[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name != "*":
                        self._bind(alias.asname or alias.name.split(".")[0], node)
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self._bind(node.name, node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With,
                                   ast.AsyncWith)):
                targets = (node.targets if isinstance(node, ast.Assign) else
                           [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor))
                           else [i.optional_vars for i in node.items if i.optional_vars is not None])
                for target in targets:
                    for name in _target_names(target):
                        self._bind(name, node)
            for field in ("body", "orelse", "finalbody", "handlers"):
                if not isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        self._collect([n for n in inner if isinstance(n, ast.stmt)] +
                                      [s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body])


class _Resolver:
    def __init__(self, files: t.Sequence[_File], package: str, importable: t.Collection[str]) -> None:
        self.files = {f.module: f for f in files}
        self.package = package
        self.importable = tuple(importable)
        self._busy: set[tuple[int, str]] = set()

    # -- modules ---------------------------------------------------------------------------
    def module(self, dotted: str) -> t.Any:
        if dotted.split(".")[0] == self.package:
            own = self.files.get(dotted)
            return _OwnModule(own) if own is not None else _UNKNOWN
        if dotted in sys.modules:
            return _Lib(sys.modules[dotted])
        if _under(dotted, self.importable):
            try:
                if importlib.util.find_spec(dotted) is None:
                    return _UNKNOWN
                return _Lib(importlib.import_module(dotted))
            except Exception:  # noqa: BLE001 - a name the library does not have
                return _UNKNOWN
        return _UNKNOWN

    def attribute(self, value: t.Any, attr: str) -> t.Any:
        if isinstance(value, _OwnModule):
            found = self.name(value.file, attr)
            if found is _UNKNOWN:
                return self.module(f"{value.file.module}.{attr}")
            return found
        if isinstance(value, _Lib):
            obj = value.obj
            if inspect.ismodule(obj):
                if attr in vars(obj):
                    return _Lib(vars(obj)[attr])
                return self.module(f"{obj.__name__}.{attr}")
            try:
                return _Lib(getattr(obj, attr))
            except Exception:  # noqa: BLE001
                return _UNKNOWN
        return _UNKNOWN

    # -- names and expressions -------------------------------------------------------------
    def name(self, file: _File, ident: str) -> t.Any:
        bindings = file.bindings.get(ident)
        if not bindings:
            return _Lib(getattr(builtins, ident)) if hasattr(builtins, ident) else _UNKNOWN
        key = (id(file), ident)
        if key in self._busy:
            return _UNKNOWN
        self._busy.add(key)
        try:
            return self.binding(file, ident, bindings[-1])
        finally:
            self._busy.discard(key)

    def binding(self, file: _File, ident: str, node: ast.AST) -> t.Any:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.asname or alias.name.split(".")[0]) == ident:
                    return self.module(alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = self.from_module(file, node)
            for alias in node.names:
                if (alias.asname or alias.name) == ident:
                    if base is None:
                        return _UNKNOWN
                    found = self.attribute(self.module(base), alias.name)
                    return found if found is not _UNKNOWN else self.module(f"{base}.{alias.name}")
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            return _Own(node, file)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(tg, ast.Name) and tg.id == ident for tg in targets):
                return self.expr(file, node.value)
        return _UNKNOWN

    def from_module(self, file: _File, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module
        parts = file.package.split(".")
        if node.level - 1 >= len(parts):
            return None
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base

    def expr(self, file: _File, node: ast.AST, local: t.Collection[str] = ()) -> t.Any:
        if isinstance(node, ast.Name):
            return _UNKNOWN if node.id in local else self.name(file, node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.expr(file, node.value, local), node.attr)
        if isinstance(node, ast.Subscript):
            value = self.expr(file, node.value, local)
            key = node.slice
            if isinstance(value, _Lib) and isinstance(key, ast.Constant) and isinstance(value.obj,
                                                                                         (tuple, list, dict)):
                try:
                    return _Lib(value.obj[key.value])
                except Exception:  # noqa: BLE001
                    return _UNKNOWN
            if isinstance(value, _Lib) and (inspect.isclass(value.obj) or hasattr(value.obj, "__class_getitem__")):
                return value  # Generic[T], Sequence[int]: the class itself
            return value if isinstance(value, _Own) else _UNKNOWN
        return _UNKNOWN


def _local_names(func: ast.AST) -> set[str]:
    """Names a function binds itself (arguments, assignments, loop variables): they shadow imports."""
    names: set[str] = set()
    args = getattr(func, "args", None)
    if isinstance(args, ast.arguments):
        names.update(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])
        names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    for sub in ast.walk(func):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in sub.names)
        elif isinstance(sub, ast.Global):
            names.difference_update(sub.names)
    return names


def _chains(tree: ast.AST) -> t.Iterator[tuple[ast.AST, set[str]]]:
    """Every name, attribute and subscript expression with the names local to where it stands."""
    def visit(node: ast.AST, local: set[str]) -> t.Iterator[tuple[ast.AST, set[str]]]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for deco in getattr(node, "decorator_list", []):
                yield from visit(deco, local)
            local = local | _local_names(node)
            for child in (node.body if isinstance(node.body, list) else [node.body]):
                yield from visit(child, local)
            for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
                yield from visit(default, local)
            return
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Load):
            yield node, local
        for child in ast.iter_child_nodes(node):
            yield from visit(child, local)

    yield from visit(tree, set())


def _where(file: _File, node: ast.AST) -> str:
    return f"{file.path}, line {getattr(node, 'lineno', '?')}"


def _peeks(file: _File, node: ast.AST, attr: str) -> str:
    return (f"{_where(file, node)}: {_code(node)} looks into the internals of a class or function ({attr}), which "
            "hides what is used")


def _code(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def find_borrowed(sources: t.Mapping[str, str], *, package: str, classes: t.Collection[str] = (),
                  forbidden: t.Collection[str] = (), forbidden_bases: t.Collection[str] = (),
                  forbidden_modules: t.Collection[str] = (), forbidden_callables: str | None = None,
                  forbidden_methods: t.Collection[str] = (), importable: t.Collection[str] = _IMPORTABLE) -> list[str]:
    """Where the submission uses a forbidden library object, however it names it, read from its source.

    :param package: the exercise's package name (absolute imports of it are the student's own).
    :param classes: the exercise's class names (``Module``, ``Pipeline``, …): each must be a class
        statement (or the student's own class or function under another name) whose bases,
        metaclass and decorators can be resolved here; computed ones are reported.
    :param forbidden: dotted names of forbidden objects (``torch.nn.Linear``): reaching one by any
        path is a violation, and so is a subclass of a forbidden class (``torch.nn.LazyLinear``).
    :param forbidden_bases: dotted names of classes no class of the submission may be built on
        (``torch.nn.Module``); using them otherwise (``nn.ReLU()`` as a layer) is not a violation.
    :param forbidden_modules: module prefixes whose objects are forbidden (``torch.utils.data``).
    :param forbidden_callables: a regular expression for the ``__name__`` of forbidden library
        functions (``softmax|nll_loss``): it finds ``torch._C._nn.cross_entropy_loss`` too.
    :param forbidden_methods: method names that are forbidden on any value but the student's own
        (``x.log_softmax(-1)`` on a tensor, which no resolution of names can see).
    """
    resolver = _Resolver([], package, importable)

    def objects(names: t.Collection[str]) -> list[t.Any]:
        out = []
        for dotted in names:
            module, _, attr = dotted.rpartition(".")
            value = resolver.attribute(resolver.module(module), attr) if module else _UNKNOWN
            if isinstance(value, _Lib):
                out.append(value.obj)
        return out

    banned = objects(forbidden)
    bases = [c for c in objects(forbidden_bases) if inspect.isclass(c)]
    banned_ids = {id(o) for o in banned} | {id(c) for c in bases}
    banned_classes = [c for c in banned if inspect.isclass(c) and c not in bases]
    pattern = re.compile(forbidden_callables, re.I) if forbidden_callables else None

    files = []
    for path, text in sorted(sources.items()):
        try:
            files.append(_File(path, ast.parse(text), package))
        except (SyntaxError, ValueError):
            continue  # the fail-closed source scan reports files it cannot read
    resolver = _Resolver(files, package, importable)
    mentions: list[str] = []

    def subclass_of_banned(obj: t.Any) -> str | None:
        for cls in banned_classes if inspect.isclass(obj) else ():
            try:
                if issubclass(obj, cls):
                    return _qualname(cls)
            except TypeError:
                pass
        return None

    def forbidden_object(obj: t.Any) -> str | None:
        """The forbidden thing ``obj`` is, or None (see :func:`subclass_of_banned` for subclasses)."""
        if id(obj) in banned_ids:
            return _qualname(obj)
        name = _module_name(obj)
        if forbidden_modules and _under(name, forbidden_modules):
            return _qualname(obj)
        if pattern is not None and callable(obj) and not inspect.ismodule(obj):
            short = getattr(obj, "__name__", "")
            if isinstance(short, str) and pattern.search(short) and _module_name(obj).split(".")[0] != package:
                return _qualname(obj)
        return None

    def built_on(obj: t.Any) -> str | None:
        """The forbidden class a base ``obj`` is (or derives from), or None."""
        if not inspect.isclass(obj):
            return None
        for cls in bases:
            try:
                if issubclass(obj, cls):
                    return _qualname(cls)
            except TypeError:
                pass
        return subclass_of_banned(obj) or forbidden_object(obj)

    # 1. every library object the code reaches, by whatever path -------------------------------
    for file in files:
        reported: set[tuple[int, str]] = set()
        inside: set[int] = set()  # parts of a chain already reported (``torch.utils`` in ``torch.utils.data``)
        for node, local in _chains(file.tree):
            if id(node) in inside:
                continue
            if isinstance(node, ast.Attribute) and node.attr in INTROSPECTION:
                mentions.append(_peeks(file, node, node.attr))
                continue
            if isinstance(node, ast.Attribute) and node.attr in forbidden_methods:
                owner = resolver.expr(file, node.value, local)
                mine = isinstance(owner, (_Own, _OwnModule)) or (isinstance(node.value, ast.Name)
                                                                 and node.value.id in ("self", "cls"))
                if not mine and (getattr(node, "lineno", 0), node.attr) not in reported:
                    reported.add((getattr(node, "lineno", 0), node.attr))
                    mentions.append(f"{_where(file, node)}: {_code(node)} is the forbidden method {node.attr}")
                continue
            value = resolver.expr(file, node, local)
            if not isinstance(value, _Lib):
                continue
            if isinstance(node, ast.Attribute) and node.attr == "__dict__":
                mentions.append(_peeks(file, node, "__dict__"))
                continue
            target = forbidden_object(value.obj)
            parent = None if target else subclass_of_banned(value.obj)
            line = getattr(node, "lineno", 0)
            if parent and (line, parent) not in reported:
                reported.add((line, parent))
                inside.update(id(sub) for sub in ast.walk(node))
                mentions.append(f"{_where(file, node)}: {_code(node)} is built on {parent}")
            elif target and (line, target) not in reported:
                reported.add((line, target))
                inside.update(id(sub) for sub in ast.walk(node))
                if target == _code(node):
                    mentions.append(f"{_where(file, node)}: {target} is forbidden here")
                else:
                    mentions.append(f"{_where(file, node)}: {_code(node)} reaches the forbidden {target}")
        for node in ast.walk(file.tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "vars")
                    and node.args):
                if node.func.id == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                        and node.args[1].value in INTROSPECTION:
                    mentions.append(_peeks(file, node, str(node.args[1].value)))
                elif node.func.id == "vars" and isinstance(resolver.expr(file, node.args[0]), _Lib):
                    mentions.append(_peeks(file, node, "vars"))

    # 2. what the classes are built on ---------------------------------------------------------
    api_nodes: dict[int, str] = {}  # class statements that are (ancestors of) the exercise's classes

    def mark(value: t.Any, name: str) -> None:
        if isinstance(value, _Own) and isinstance(value.node, ast.ClassDef) and id(value.node) not in api_nodes:
            api_nodes[id(value.node)] = name
            for base in value.node.bases:
                mark(resolver.expr(value.file, base), name)

    for file in files:
        for name in classes:
            for node in file.bindings.get(name, []):
                value = resolver.binding(file, name, node)
                mark(value, name)
                target = built_on(value.obj) if isinstance(value, _Lib) else None
                if target:
                    mentions.append(f"{_where(file, node)}: class {name} is built on {target}")
                made_by_type = (isinstance(getattr(node, "value", None), ast.Call) and isinstance(node.value.func, ast.Name)
                                and node.value.func.id == "type" and len(node.value.args) == 3)
                if value is _UNKNOWN and isinstance(node, (ast.Assign, ast.AnnAssign)) and not made_by_type:
                    mentions.append(f"{_where(file, node)}: {name} is bound to {_code(node.value)}, which is "
                                    "computed at run time; define it with a class statement")
        for node in ast.walk(file.tree):
            if isinstance(node, ast.Global):
                for name in set(node.names) & set(classes):
                    mentions.append(f"{_where(file, node)}: `global {name}` rebinds {name} at run time; define it "
                                    "with a class statement")
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr in classes
                  and isinstance(resolver.expr(file, node.value), _OwnModule)):
                mentions.append(f"{_where(file, node)}: {_code(node)} = ... rebinds {node.attr} at run time; "
                                "define it with a class statement")

    def check_class(file: _File, node: ast.AST, name: str, base_nodes: t.Sequence[ast.AST],
                    keywords: t.Sequence[ast.keyword], decorators: t.Sequence[ast.AST]) -> None:
        api = api_nodes.get(id(node))
        for base in base_nodes:
            value = resolver.expr(file, base)
            if isinstance(value, _Lib):
                obj = value.obj
                if not inspect.isclass(obj) and hasattr(obj, "__mro_entries__"):
                    try:
                        entries = obj.__mro_entries__((obj,))
                    except Exception:  # noqa: BLE001
                        entries = ()
                    obj = entries[0] if entries else obj
                target = built_on(obj)
                if target:
                    mentions.append(f"{_where(file, base)}: class {name} is built on {target}")
                elif api and not inspect.isclass(obj):
                    mentions.append(f"{_where(file, base)}: the base class {_code(base)} of {name} is not a class, "
                                    "so it cannot be checked")
            elif api and not (isinstance(value, _Own) and isinstance(value.node, ast.ClassDef)):
                mentions.append(f"{_where(file, base)}: the base class {_code(base)} of {name} is computed at run "
                                "time, so it cannot be checked")
        if not api:
            return
        for keyword in keywords:
            if keyword.arg != "metaclass":
                continue
            value = resolver.expr(file, keyword.value)
            if not (isinstance(value, _Lib) and inspect.isclass(value.obj)
                    and _module_name(value.obj).split(".")[0] in _SAFE_STDLIB):
                mentions.append(f"{_where(file, keyword.value)}: the metaclass {_code(keyword.value)} of {name} "
                                "can replace the class, so it cannot be checked")
        for deco in decorators:
            value = resolver.expr(file, deco.func if isinstance(deco, ast.Call) else deco)
            if not (isinstance(value, _Lib) and _module_name(value.obj).split(".")[0] in _SAFE_STDLIB):
                mentions.append(f"{_where(file, deco)}: the decorator {_code(deco)} of {name} can replace the "
                                "class, so it cannot be checked")

    for file in files:
        assigned = {id(n.value): [tg.id for tg in n.targets if isinstance(tg, ast.Name)]
                    for n in ast.walk(file.tree) if isinstance(n, ast.Assign)}
        for node in ast.walk(file.tree):
            if isinstance(node, ast.ClassDef):
                check_class(file, node, node.name, node.bases, node.keywords, node.decorator_list)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type"
                  and len(node.args) == 3):
                names = assigned.get(id(node)) or ["(a class made by type())"]
                api = next((n for n in names if n in classes), None)
                if api:
                    api_nodes[id(node)] = api
                if isinstance(node.args[1], (ast.Tuple, ast.List)):
                    check_class(file, node, names[0], node.args[1].elts, [], [])
                else:
                    mentions.append(f"{_where(file, node)}: the base class {_code(node.args[1])} of {names[0]} is "
                                    "computed at run time, so it cannot be checked")
    # What a class is built on first (the clearest), then each forbidden thing once, then the rest.

    def rank(text: str) -> int:
        return (0 if ": class " in text and " is built on " in text else
                1 if any(k in text for k in (" reaches the forbidden ", " is forbidden here", " is the forbidden method ",
                                             " is built on ")) else 2)

    seen_targets: set[str] = set()
    out = []
    for text in sorted(dict.fromkeys(mentions), key=rank):
        target = text.rsplit(" ", 1)[-1] if rank(text) == 1 else None
        if target is not None and target in seen_targets:
            continue
        if target is not None:
            seen_targets.add(target)
        out.append(text)
    return out


def assert_built_from_scratch(sources: t.Mapping[str, str], *, what: str, **rules: t.Any) -> None:
    """Fail with the places :func:`find_borrowed` reports (at most eight), if any."""
    __tracebackhide__ = True
    mentions = find_borrowed(sources, **rules)
    if mentions:
        found = "; ".join(mentions[:8])
        fail(f"{what} must be written from scratch, and the grader reads what your code is built on from its "
             f"source (not from what your classes say about themselves). It found: {found}.")


def assert_all(*rules: t.Callable[[], None]) -> None:
    """Run every rule, and fail with all their messages (in order) if any failed: a student sees at once
    everything the from-scratch rule found, not only the first kind of it."""
    __tracebackhide__ = True
    from grader.testing import CheckFailed

    messages = []
    for rule in rules:
        try:
            rule()
        except CheckFailed as exc:
            messages.append(str(exc))
    if messages:
        fail("\n".join(messages))
