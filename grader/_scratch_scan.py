"""The static scan behind the from-scratch rule (see :mod:`grader.scratch`): dynamic code, each
hit named as ``"file, line N: code"``.

Dynamic code is anything that runs or reaches code by a name or text the scan cannot see: exec,
eval, compile, ``__import__``, importlib, runpy, marshal, pickle loads, code objects, ctypes,
another interpreter, module ``__dict__``/``vars()``/``globals()``, ``__builtins__``, frames (also
through ``inspect``), ``gc``'s object lists, ``__subclasses__``, ``sys.modules``/``sys.path``,
``getattr`` with a computed name on a module (aliases such as ``m = torch.nn.functional``
followed), a module passed around as a value, and changes to other libraries at run time. Not:
``getattr(obj, name)`` on an ordinary object (fastai's callback dispatch), ``vars(self)``, the
harmless parts of ``inspect``, ``gc``, ``pickle`` and ``sys`` (``inspect.signature``,
``gc.collect``, ``pickle.dumps``, ``sys.maxsize``): only modules and what hangs off them count.
String annotations are scanned as code (``typing.get_type_hints`` and ``functools.singledispatch``
evaluate them). The lists are in ``grader/_scratch_rules.py``.
"""

from __future__ import annotations

import ast
import sys
import typing as t

from ._scratch_rules import (_DANGER_TEXT, _DECLARED, _MODULE_STORES, _OS_EXEC, DANGER_ATTRS, DANGER_BUILTINS,
                             DANGER_DUNDERS, DANGER_MODULES, MODULE_LOOKUPS, VALUE_BUILTINS)

__all__ = ["find_dynamic_code", "parsed", "snippet", "bound_names", "index", "module_of", "own_modules"]


def parsed(sources: t.Mapping[str, str]) -> t.Iterator[tuple[str, ast.Module]]:
    """``(filename, tree)`` of each Python file (``.py``) that parses; trees of :class:`Sources` are reused."""
    trees = getattr(sources, "trees", {})
    for filename, text in sorted(sources.items()):
        tree = trees.get(filename)
        if tree is None:
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
        yield filename, tree


def snippet(node: ast.AST, limit: int = 60) -> str:
    """A short, one-line rendering of ``node`` for a message."""
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - a message must not fail on odd code
        text = type(node).__name__
    text = " ".join(text.split()).replace("; ", ", ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def index(tree: ast.AST) -> tuple[list[ast.AST], dict[ast.AST, ast.AST]]:
    """All nodes of ``tree`` and each one's parent, computed once per tree."""
    cached = getattr(tree, "_grader_index", None)
    if cached is None:
        nodes, parents, i = [tree], {}, 0
        while i < len(nodes):
            for child in ast.iter_child_nodes(nodes[i]):
                parents[child] = nodes[i]
                nodes.append(child)
            i += 1
        cached = tree._grader_index = (nodes, parents)  # type: ignore[attr-defined]
    return cached


def bound_names(tree: ast.AST) -> set[str]:
    """Every name ``tree`` binds anywhere (defs, classes, assignments, parameters, imports)."""
    out: set[str] = set()
    for node in index(tree)[0]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return out


def module_of(filename: str, package: str) -> tuple[str, str]:
    """(module, package for its relative imports) of a file key such as ``"sub/helpers.py"``."""
    parts = [package, *filename[:-3].split("/")]
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def own_modules(sources: t.Mapping[str, str], package: str) -> dict[str, str | None]:
    """``{dotted module of the package: its file key (None for a folder)}``."""
    out: dict[str, str | None] = {package: None}
    for folder in getattr(sources, "folders", ()):
        out.setdefault(".".join([package, *folder.split("/")]), None)
    for filename in getattr(sources, "files", sources):
        if filename.lower().endswith(".py"):
            out[module_of(filename, package)[0]] = filename
    return out


class _FileScan(ast.NodeVisitor):
    """One file: dynamic-code hits, with scopes for local names and module aliases."""

    def __init__(self, filename: str, tree: ast.Module, package: str | None, own: t.Collection[str]) -> None:
        self.filename, self.own = filename, own
        self.module, self.base = module_of(filename, package) if package else ("", "")
        self.package = package
        self.hits: list[str] = []
        self.parents = index(tree)[1]
        self.safe: set[int] = set()  # ids of nodes judged safe (torch.load with weights_only=True)
        self.aliased: set[int] = set()  # ids of tuples assigned to tuples of names (aliases, not values)
        self.resolved: dict[tuple[int, str], tuple[str, bool] | None] = {}
        self.starred: list[str] = []  # modules star-imported so far
        self.bound = bound_names(tree)
        #: values assigned to ``global``/``nonlocal`` names inside functions: they count wherever the name is looked up
        self.shared: dict[str, list[t.Any]] = {}
        for stmt in [n for n in self.parents if isinstance(n, (ast.Global, ast.Nonlocal))]:
            func = self.parents.get(stmt)
            while func is not None and not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                func = self.parents.get(func)
            if func is not None:
                declared = set(stmt.names)
                for name, values in self._bindings(func).items():
                    if name in declared:
                        self.shared.setdefault(name, []).extend(values)
        self.scopes: list[tuple[str, dict[str, list[t.Any]]]] = [("module", self._bindings(tree))]
        self.generic_visit(tree)

    # -- scopes -----------------------------------------------------------------------------------
    def _bindings(self, scope: ast.AST) -> dict[str, t.Any]:
        """What each name of ``scope`` is bound to (module tuples, assigned expressions or None)."""
        binds: dict[str, t.Any] = {}
        declared = binds[_DECLARED] = set()  # names declared global or nonlocal here

        def add(target: ast.AST, value: t.Any) -> None:
            if isinstance(target, ast.Name):
                binds.setdefault(target.id, []).append(value)
            elif isinstance(target, (ast.Tuple, ast.List)):
                values = (value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
                          else [None] * len(target.elts))
                for sub, v in zip(target.elts, values):
                    add(sub, v)
            elif isinstance(target, ast.Starred):
                add(target.value, None)

        def walk(node: ast.AST) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    binds.setdefault(child.name, []).append(None)
                    continue
                if isinstance(child, ast.Lambda):
                    continue
                if isinstance(child, ast.Import):
                    for a in child.names:
                        name = a.asname or a.name.split(".")[0]
                        binds.setdefault(name, []).append(("module", a.name if a.asname else name, True))
                elif isinstance(child, ast.ImportFrom):
                    where = self._from_base(child)
                    for a in child.names:
                        if a.name != "*" and where is not None:
                            dotted = f"{where}.{a.name}" if where else a.name
                            binds.setdefault(a.asname or a.name, []).append(("module", dotted, self._is_module(dotted)))
                elif isinstance(child, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                    for target in getattr(child, "targets", None) or [child.target]:
                        add(target, child.value)
                elif isinstance(child, (ast.For, ast.AsyncFor, ast.comprehension)):
                    elts = child.iter.elts if isinstance(child.iter, (ast.Tuple, ast.List, ast.Set)) else [None]
                    for value in elts:
                        add(child.target, value)
                elif isinstance(child, ast.withitem) and child.optional_vars is not None:
                    add(child.optional_vars, None)
                elif isinstance(child, ast.ExceptHandler) and child.name:
                    binds.setdefault(child.name, []).append(None)
                elif isinstance(child, ast.arg):
                    binds.setdefault(child.arg, []).append(None)
                elif isinstance(child, (ast.Global, ast.Nonlocal)):
                    for name in child.names:
                        declared.add(name)
                walk(child)

        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for arg in [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs, scope.args.vararg,
                        scope.args.kwarg]:
                if arg is not None:
                    binds.setdefault(arg.arg, []).append(None)
            if isinstance(scope, ast.Lambda):
                walk(ast.Expr(scope.body))
                return binds
        for stmt in getattr(scope, "body", []):
            walk(ast.Module(body=[stmt], type_ignores=[]))
        return binds

    def _lookup(self, name: str) -> tuple[str | None, list[t.Any], int]:
        """(kind of the scope that binds ``name``, its bound values, the scope's id); class bodies are
        skipped from inside functions."""
        for depth, (kind, binds) in enumerate(reversed(self.scopes)):
            if kind == "class" and depth > 0:
                continue
            values = binds.get(name)
            if values and name not in binds.get(_DECLARED, ()):
                return kind, (values + self.shared[name] if name in self.shared else values), id(binds)
        return ("module" if name in self.shared else None), self.shared.get(name, []), 0

    def local(self, name: str) -> bool:
        """Whether ``name`` is a local variable of an enclosing function here (so not the builtin)."""
        return self._lookup(name)[0] in ("function", "class")

    def resolve(self, node: ast.AST) -> tuple[str, bool] | None:
        """``(dotted name, is a module)`` when ``node`` is a module or an attribute chain off one.

        Names are followed through their assignments; each (scope, name) is resolved once.
        """
        if isinstance(node, ast.Name):
            _, values, scope = self._lookup(node.id)
            key = (scope, node.id)
            if key not in self.resolved:
                self.resolved[key] = None  # while in progress: a name assigned from itself is no module
                for value in values:
                    found = (value[1], value[2]) if isinstance(value, tuple) and value[0] == "module" else (
                        self.resolve(value) if isinstance(value, ast.AST) else None)
                    if found:
                        self.resolved[key] = found
                        break
            return self.resolved[key]
        if isinstance(node, ast.Attribute) or (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            obj, attr = (node.value, node.attr) if isinstance(node, ast.Attribute) else (node.args[0], node.args[1].value)
            base = self.resolve(obj)
            return (f"{base[0]}.{attr}", self._is_module(f"{base[0]}.{attr}")) if base else None
        if isinstance(node, (ast.IfExp, ast.BoolOp, ast.NamedExpr)):
            parts = ([node.body, node.orelse] if isinstance(node, ast.IfExp)
                     else node.values if isinstance(node, ast.BoolOp) else [node.value])
            return next(filter(None, (self.resolve(v) for v in parts)), None)
        return None

    def _is_module(self, dotted: str) -> bool:
        return dotted in sys.modules or dotted in self.own

    def _is_own(self, dotted: str) -> bool:
        return bool(self.package) and (dotted == self.package or dotted.startswith(self.package + "."))

    def _from_base(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module or ""
        if not self.package:
            return None
        parts = self.base.split(".")
        if node.level - 1 >= len(parts):
            return None
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base

    # -- visiting ---------------------------------------------------------------------------------
    def hit(self, node: ast.AST, text: str | None = None) -> None:
        self.hits.append(f"{self.filename}, line {getattr(node, 'lineno', '?')}: {text or snippet(node)}")

    def _enter(self, node: ast.AST, kind: str) -> None:
        self.scopes.append((kind, self._bindings(node)))
        for stmt in [node.body] if isinstance(node, ast.Lambda) else node.body:  # type: ignore[attr-defined]
            self.visit(stmt)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.escape(default)
            self.visit(default)
        if not isinstance(node, ast.Lambda):
            annotations = [a.annotation for a in ast.walk(args) if isinstance(a, ast.arg)] + [node.returns]
            for expr in [*node.decorator_list, *annotations]:
                if expr is not None:
                    self.visit(expr)
            for expr in annotations:
                self.annotation(expr)
        else:
            self.escape(node.body)
        self._enter(node, "function")

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_Lambda = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.escape(expr)
            self.visit(expr)
        self._enter(node, "class")

    def check_dotted(self, node: ast.AST, dotted: str) -> bool:
        """Hit when the module path ``dotted`` (or a part of it) is dynamic code."""
        if self._is_own(dotted):
            return False
        parts = dotted.split(".")
        prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        stdlib = parts[0] in sys.stdlib_module_names
        if (any(p in DANGER_MODULES or p in DANGER_ATTRS or _OS_EXEC.match(p) for p in prefixes)
                or any("import" in p.lower() or p in DANGER_DUNDERS or p in MODULE_LOOKUPS for p in parts[1:])
                or (stdlib and any(p.startswith("_") and not p.endswith("__") for p in parts[1:]))):
            if id(node) not in self.safe:
                self.hit(node)
            return True
        return False

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self.check_dotted(node, alias.name):
                break

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        where = self._from_base(node)
        if where is None or self._is_own(where):
            return
        for alias in node.names:
            if alias.name == "*":
                self.starred.append(where)  # its dangerous names are judged where they are used
                self.check_dotted(node, where)
            elif self.check_dotted(node, f"{where}.{alias.name}"):
                break

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            parent = self.parents.get(node)
            called = isinstance(parent, ast.Call) and parent.func is node
            if node.id in DANGER_BUILTINS and not self.local(node.id):
                self.hit(parent if called else node)
            elif node.id in VALUE_BUILTINS and not called and not self.local(node.id):
                self.hit(parent if parent is not None and not isinstance(parent, ast.stmt) else node)
            elif self.starred and node.id not in self.bound:
                for module in self.starred:
                    if self.check_dotted(node, f"{module}.{node.id}"):
                        break
        elif node.id in _MODULE_STORES:
            self.hit(node, f"{node.id} = ...")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parent = self.parents.get(node)
        base = self.resolve(node.value)
        if node.attr in DANGER_DUNDERS or (base and node.attr in MODULE_LOOKUPS):
            self.hit(node)
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and ((base and not self._is_own(base[0]))
                                                             or _class_of_other(node.value)):
            self.hit(node, f"{snippet(node)} = ... (changes another library while it runs)")
        elif not isinstance(parent, ast.Attribute):
            whole = self.resolve(node)
            if whole:
                self.check_dotted(node, whole[0])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func, args = node.func, node.args
        name = func.id if isinstance(func, ast.Name) and not self.local(func.id) else None
        constant = len(args) >= 2 and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str)
        target = self.resolve(args[0]) if args else None
        if name in ("getattr", "hasattr", "vars") and args and not target and _class_of_other(args[0]) and not constant:
            self.hit(node, f"{name}({snippet(args[0], 30)}, <computed name>)")  # a library class's attributes by name
        elif name in ("getattr", "hasattr") and target and not constant:
            self.hit(node, f"{name}({snippet(args[0], 30)}, <computed name>)")
        elif name in ("getattr", "hasattr") and target and constant:
            self.check_dotted(node, f"{target[0]}.{args[1].value}")
        elif name == "vars" and (not args or target):
            self.hit(node)
        elif name in ("setattr", "delattr") and args and ((target and not self._is_own(target[0]))
                                                          or _class_of_other(args[0])):
            self.hit(node, f"{snippet(node)} (changes another library while it runs)")
        called = self.resolve(func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if called and called[0] == "torch.load" and _is_constant(keywords.get("weights_only"), True):
            self.safe.add(id(func))
        if ("allow_pickle" in keywords and not _is_constant(keywords["allow_pickle"], False)) or (
                "eval_str" in keywords and not _is_constant(keywords["eval_str"], False)):
            self.hit(node)  # numpy.load(allow_pickle=True), inspect.signature(eval_str=True)
        if name in VALUE_BUILTINS | {"hasattr"}:
            args = args[1:]  # the object: judged by the rules above
        for value in [*args, *keywords.values()]:
            self.escape(value.value if isinstance(value, ast.Starred) else value)
        self.generic_visit(node)

    def escape(self, node: ast.AST | None) -> None:
        """Hit when a module itself (not a name in it) is handed around as a value."""
        if isinstance(node, (ast.Name, ast.Attribute)):
            found = self.resolve(node)
            if found and found[1] and not self._is_own(found[0]):
                self.hit(node, f"{snippet(node)} (a module handed around as a value)")

    def visit_Return(self, node: ast.Return | ast.Yield | ast.YieldFrom | ast.Await) -> None:
        self.escape(node.value)
        self.generic_visit(node)

    visit_Yield = visit_YieldFrom = visit_Return  # type: ignore[assignment]

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = getattr(node, "targets", None) or [node.target]  # type: ignore[union-attr]
        for target in targets:
            if not isinstance(target, (ast.Name, ast.Tuple, ast.List)) or self.scopes[-1][0] == "class":
                self.escape(node.value)
            elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)):
                self.aliased.add(id(node.value))
        self.annotation(getattr(node, "annotation", None))
        self.generic_visit(node)

    visit_AnnAssign = visit_Assign  # type: ignore[assignment]

    def annotation(self, node: ast.AST | None) -> None:
        """A string annotation is code too: typing.get_type_hints, functools.singledispatch... evaluate it."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                expr = ast.parse(node.value.strip(), mode="eval")
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return
            for sub in ast.walk(expr):
                if hasattr(sub, "lineno"):
                    sub.lineno = node.lineno  # type: ignore[attr-defined]
            self.parents.update({c: p for p in ast.walk(expr) for c in ast.iter_child_nodes(p)})
            self.visit(expr.body)

    def visit_Match(self, node: ast.Match) -> None:
        self.escape(node.subject)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.escape(node.slice)
        self.generic_visit(node)

    def visit_containers(self, node: ast.List | ast.Tuple | ast.Set | ast.Dict) -> None:
        if id(node) not in self.aliased and isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            for elt in [*getattr(node, "elts", []), *getattr(node, "values", []), *getattr(node, "keys", [])]:
                self.escape(elt)
        self.generic_visit(node)

    visit_List = visit_Tuple = visit_Set = visit_Dict = visit_containers  # type: ignore[assignment]

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        if isinstance(value, str) and _DANGER_TEXT.search(value) and not isinstance(self.parents.get(node), ast.Expr):
            self.hit(node, snippet(node, 40))


def _is_constant(node: ast.AST | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _class_of_other(node: ast.AST) -> bool:
    """``type(x)``, ``x.__class__``, ``C.__mro__[i]`` ... of an object other than ``self``/``cls``."""
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "type" and sub.args
                and not (isinstance(sub.args[0], ast.Name) and sub.args[0].id in ("self", "cls"))):
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in ("__mro__", "__bases__", "__base__"):
            return True
        if (isinstance(sub, ast.Attribute) and sub.attr == "__class__"
                and not (isinstance(sub.value, ast.Name) and sub.value.id in ("self", "cls"))):
            return True
    return False


def find_dynamic_code(sources: t.Mapping[str, str]) -> list[str]:
    """Where the student's source runs or reaches code dynamically (see the module docstring)."""
    cached = getattr(sources, "_dynamic", None)
    if cached is None:
        package = getattr(sources, "package", None)
        own = own_modules(sources, package) if package else {}
        cached = list(dict.fromkeys(h for name, tree in parsed(sources) for h in _file_hits(name, tree, package, own)))
        if hasattr(sources, "trees"):
            sources._dynamic = cached  # type: ignore[attr-defined]
    return list(cached)


def _file_hits(name: str, tree: ast.Module, package: str | None, own: t.Collection[str]) -> list[str]:
    try:
        return _FileScan(name, tree, package, own).hits
    except RecursionError:
        return [f"{name}, line 1: (nested too deeply to be scanned)"]
