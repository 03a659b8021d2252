"""The from-scratch rule: read the student's package in full, and find what it must not use.

It runs in the trusted process and fails closed (DESIGN.md, principle 7). :func:`read_sources`
reads *every* file of an exercise's package folder in full; what it cannot read as UTF-8 Python
source (another ``# coding:``, ``.pyc``/``.so``/archives, binaries, symbolic links, a file over
:data:`MAX_FILE_BYTES`, more than :data:`MAX_FILES` entries) becomes a problem that fails the rule,
with the file named. Nothing is skipped silently, with one exception: ``__pycache__`` folders. The
worker never reads them (it imports everything in the submission's tree from ``.py`` source alone
and writes no bytecode, see ``_worker._source_only``; batch intake drops them), so bytecode there
cannot run; importing such a folder as a package is caught by the import rules below.

The scan treats dynamic code (:func:`find_dynamic_code`, in ``grader/_scratch_scan.py``) and
imports of code outside the package (:func:`find_outside_imports`) as violations on their own in
every exercise that has the rule: they exist to hide what is used. :func:`assert_from_scratch` fails on all of it, and on forbidden names, imports,
operations and modules.
"""

from __future__ import annotations

import ast
import codecs
import io
import os
import re
import stat
import tokenize
import typing as t
from pathlib import Path

from ._scratch_scan import bound_names, find_dynamic_code, index, module_of, own_modules, parsed, snippet

__all__ = ["Sources", "read_sources", "MAX_FILE_BYTES", "MAX_FILES", "MAX_TOTAL_BYTES", "assert_from_scratch",
           "find_forbidden_names", "find_forbidden_imports", "find_indirect_imports", "find_dynamic_code",
           "find_outside_imports"]

#: The largest file the rule accepts (the scan reads every file in full).
MAX_FILE_BYTES = 1 << 20
#: The most files and folders a package may hold (``__pycache__`` folders not counted).
MAX_FILES = 200
#: The most bytes all files of a package may hold together.
MAX_TOTAL_BYTES = 2 << 20
#: Files that are code the grader cannot read: bytecode, native libraries, path hooks, archives.
CODE_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".pth", ".zip", ".egg", ".whl", ".pyz")
#: Suffixes under which a file at the submission's root is importable as a top-level module.
_MODULE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".pyd", ".pyw")
_COOKIE = re.compile(rb"coding[:=][ \t]*([-\w.]+)")


class Sources(dict):  # type: ignore[type-arg]
    """``{path relative to the package folder: text}`` of a package's Python files, read in full.

    ``problems``: why part of the package could not be read as UTF-8 Python source (each names the
    file); ``data``: the package's other UTF-8 text files; ``package``: its name; ``folders``: its
    sub-folders; ``root_names``: the other importable names at the submission's root.
    """

    def __init__(self, items: t.Any = (), *, package: str | None = None, problems: t.Iterable[str] = (),
                 data: t.Mapping[str, str] | None = None, folders: t.Iterable[str] = (),
                 root_names: t.Iterable[str] = ()) -> None:
        super().__init__(items)
        self.package = package
        self.problems = list(problems)
        self.data = dict(data or {})
        self.folders = set(folders)
        self.root_names = frozenset(root_names)
        #: every regular file's path (read or not), and the parsed trees of the Python files
        self.files: set[str] = set(self)
        self.trees: dict[str, ast.Module] = {}
        #: problems that are only a syntax error in a UTF-8 file: Python cannot compile it either, so
        #: that file never runs (it cannot patch a sibling package; its own package fails to import)
        self.syntax_errors: list[str] = []

    def copy(self) -> "Sources":
        out = Sources(self, package=self.package, problems=self.problems, data=self.data, folders=self.folders,
                      root_names=self.root_names)
        out.files, out.trees = set(self.files), dict(self.trees)
        out.syntax_errors = list(self.syntax_errors)
        if hasattr(self, "_scan"):
            out._scan = self._scan  # type: ignore[attr-defined]
        return out


def read_sources(folder: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *,
                 loaded_with: t.Iterable[str] = (), threats: dict[str, list[str]] | None = None,
                 depends: t.Mapping[str, t.Collection[str]] | None = None) -> Sources:
    """Read every file of the package ``folder`` in full; what cannot be read is a problem.

    :param root: the submission's root (the folder on the worker's ``sys.path``; default: the
        package's parent): its other packages and modules are outside this exercise.
    :param loaded_with: other packages the same worker imports (batch grading imports all of a
        student's graded exercises into one worker). One that could change this package's code at
        run time (it imports another package of the submission, runs dynamic code or cannot be read)
        is a problem too.
    :param threats: what each sibling package was found to threaten, by name, filled as they are
        read: one grading session reads each sibling once, not once per exercise (the verdict on a
        sibling does not depend on the package asking).
        :param depends: for each package, the other packages of the submission it may import (an
        exercise's ``depends``, e.g. fine_tune builds on the student's callbacks): those are not
        outside imports; every other package of the root still is.
    """
    folder = Path(folder)
    base = Path(root) if root is not None else folder.parent
    package = folder.name
    allowed = frozenset((depends or {}).get(package, ()))
    out = Sources(package=package, root_names=_root_names(base, package) - allowed)
    try:
        info = os.lstat(folder)
    except OSError:
        out.problems.append(f"There is no package folder {package}/ in the submission, so the grader cannot read "
                            "your code.")
        return out
    if stat.S_ISLNK(info.st_mode):
        out.problems.append(f"{package}/ is a symbolic link; submit real files only.")
    elif not stat.S_ISDIR(info.st_mode):
        out.problems.append(f"There is no package folder {package}/ in the submission, so the grader cannot read "
                            "your code.")
    else:
        _read_tree(folder, out)
        if "__init__.py" not in out.files:
            out.problems.append(f"{package}/__init__.py is missing: the package must have one.")
    for other in sorted(set(loaded_with) - {package}):
        if threats is not None and other in threats:
            out.problems += threats[other]
        elif (base / other).is_dir() and not (base / other).is_symlink():
            found = _threat_from(read_sources(base / other, base, depends=depends))
            if threats is not None:
                threats[other] = found
            out.problems += found
    return out


def _threat_from(other: Sources) -> list[str]:
    """Why the sibling package ``other`` could change the graded package's code at run time (none: ``[]``).

    A sibling file with a plain syntax error is no threat: Python cannot compile it either, so it
    never runs (a student's one broken exercise must not void the others).
    """
    problems = [p for p in other.problems if p not in other.syntax_errors]
    reasons = problems + find_dynamic_code(other) + find_outside_imports(other)
    if not reasons:
        return []
    return [f"{other.package}/ is graded in the same worker as this exercise and could change its code while it "
            f"runs, so this exercise cannot be judged: {reasons[0]}"]


def _root_names(root: Path, package: str) -> set[str]:
    """Names importable from the submission's root (folders and module files), but ``package``."""
    names: set[str] = set()
    try:
        with os.scandir(root) as entries:
            for count, entry in enumerate(entries):
                if count > 5000:
                    break
                name = entry.name
                if entry.is_dir():
                    names.add(name)
                elif name.endswith(_MODULE_SUFFIXES):
                    names.add(name.split(".", 1)[0])
    except OSError:
        pass
    return {n for n in names if n.isidentifier() and n not in (package, "__pycache__")}


def _read_tree(folder: Path, out: Sources) -> None:
    package, found, total, entries = folder.name, {}, 0, 0
    stack = [("", str(folder))]
    while stack:
        rel_dir, path = stack.pop()
        try:
            with os.scandir(path) as scan:
                children = sorted(scan, key=lambda e: e.name, reverse=True)
        except OSError as exc:
            out.problems.append(f"{package}/{rel_dir} could not be read ({exc.strerror}).")
            continue
        for entry in children:
            rel, shown = rel_dir + entry.name, f"{package}/{_printable(rel_dir + entry.name)}"
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                out.problems.append(f"{shown} could not be read ({exc.strerror}).")
                continue
            if entry.name == "__pycache__" and stat.S_ISDIR(info.st_mode):
                continue  # never read by the worker (source-only imports): see the module docstring
            entries += 1
            if entries > MAX_FILES:
                out.problems.append(f"Your package has more than {MAX_FILES} files and folders; the grader reads "
                                    "every file in full and accepts no more than that.")
                stack.clear()
                break
            if _printable(entry.name) != entry.name:
                out.problems.append(f"A file name in {package}/{_printable(rel_dir)} is not printable UTF-8 text: "
                                    f"{_printable(entry.name)}.")
            elif stat.S_ISLNK(info.st_mode):
                out.problems.append(f"{shown} is a symbolic link; submit real files only.")
            elif stat.S_ISDIR(info.st_mode):
                out.folders.add(rel)
                stack.append((rel + "/", entry.path))
            elif not stat.S_ISREG(info.st_mode):
                out.problems.append(f"{shown} is not a regular file (a device, socket or pipe).")
            elif info.st_size > MAX_FILE_BYTES:
                out.problems.append(f"{shown} is larger than {MAX_FILE_BYTES >> 10} KiB; the grader reads every "
                                    "file in full and accepts no larger file.")
            elif (total := total + info.st_size) > MAX_TOTAL_BYTES:
                out.problems.append(f"Your package holds more than {MAX_TOTAL_BYTES >> 20} MiB; the grader reads "
                                    "every file in full and accepts no more than that.")
                stack.clear()
                break
            else:
                out.files.add(rel)
                text = _read_file(entry.path, rel, shown, out)
                if text is not None:
                    found[rel] = text
    for rel in sorted(found):
        (out if rel.lower().endswith(".py") else out.data)[rel] = found[rel]


def _printable(name: str) -> str:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return ascii(name)
    return name if name.isprintable() else ascii(name)


def _read_file(path: str, rel: str, shown: str, out: Sources) -> str | None:
    """The text of one regular file, or ``None`` with the reason in ``out.problems``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                out.problems.append(f"{shown} is not a regular file (a device, socket or pipe).")
                return None
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        out.problems.append(f"{shown} could not be read ({exc.strerror}).")
        return None
    lower = rel.lower()
    if len(data) > MAX_FILE_BYTES:
        out.problems.append(f"{shown} is larger than {MAX_FILE_BYTES >> 10} KiB; the grader reads every file in "
                            "full and accepts no larger file.")
    elif lower.endswith(CODE_SUFFIXES):
        kind = next(s for s in CODE_SUFFIXES if lower.endswith(s))
        out.problems.append(f"{shown} is compiled code or an archive ({kind}), which the grader cannot read; submit "
                            "Python source (.py) only.")
    elif lower.endswith(".py"):
        return _python_text(data, rel, shown, out)
    elif b"\0" in data or not _is_utf8(data):
        out.problems.append(f"{shown} is a binary file (it is not UTF-8 text); only Python source and UTF-8 text "
                            "files may be in your package.")
    else:
        return data.decode("utf-8-sig")
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _python_text(data: bytes, rel: str, shown: str, out: Sources) -> str | None:
    """Source as Python itself reads it: its declared encoding must be UTF-8, its bytes valid UTF-8."""
    if b"\0" in data:
        out.problems.append(f"{shown} contains NUL bytes, so it is not Python source.")
        return None
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:  # bytes that are not UTF-8, or a codec Python does not know: both are told below
        encoding = "utf-8"
    declared = [m.group(1).decode("ascii", "replace") for line in data.splitlines()[:2] for m in _COOKIE.finditer(line)]
    for name in [encoding, *declared]:
        try:
            ok = codecs.lookup(name).name in ("utf-8", "utf-8-sig")
        except LookupError:
            ok = False
        if not ok:
            out.problems.append(f"{shown} declares the encoding {name[:40]} in its coding line; Python would not read it "
                                "as UTF-8, so save it as UTF-8 and remove that line.")
            return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.problems.append(f"{shown} is not valid UTF-8 (byte {exc.start}); save it as UTF-8.")
        return None
    try:
        out.trees[rel] = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        problem = f"{shown} is not valid Python ({exc.msg}, line {exc.lineno}), so the grader cannot read it."
        out.problems.append(problem)
        out.syntax_errors.append(problem)
        return None
    except (ValueError, RecursionError, MemoryError):
        out.problems.append(f"{shown} is nested too deeply to be read as Python.")
        return None
    return text


# -- forbidden names and imports --------------------------------------------------------------------

def find_forbidden_names(sources: t.Mapping[str, str], forbidden: t.Collection[str]) -> list[str]:
    """Where the student's source *mentions* a forbidden API (attribute, import or getattr string).

    ``forbidden`` holds dotted names (``"torch.nn.functional.conv2d"``); a mention of the last part
    as an attribute (``F.conv2d``), an import (``from torch.nn.functional import conv2d``), a string
    handed to ``getattr``, or a bare name after a star import from the library counts. The
    student's own ``def conv2d`` does not.
    """
    leaves = {name.rsplit(".", 1)[-1]: name for name in forbidden}
    roots = {name.split(".", 1)[0] for name in forbidden}
    found: list[str] = []
    for filename, tree in parsed(sources):
        nodes = index(tree)[0]
        aliases = _library_aliases(nodes, roots)
        starred = any(isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").split(".")[0] in roots
                      and any(a.name == "*" for a in n.names) for n in nodes)
        own = bound_names(tree) if starred else set()
        for node in nodes:
            hit = None
            if isinstance(node, ast.Attribute) and node.attr in leaves and _chain_root(node) in aliases:
                hit = snippet(node)
            elif (isinstance(node, ast.ImportFrom) and node.level == 0  # not the student's own `from .x`
                  and (node.module or "").split(".")[0] in roots):  # nor `from mypackage import conv2d`
                names = [a.name for a in node.names if a.name in leaves]
                hit = f"from {node.module} import {names[0]}" if names else None
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                  and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                  and node.args[1].value in leaves):
                hit = snippet(node)
            elif (starred and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in leaves
                  and node.id not in own):
                hit = f"{node.id} (from a star import)"
            if hit:
                found.append(f"{filename}, line {getattr(node, 'lineno', '?')}: {hit}")
    return found


def _library_aliases(nodes: t.Iterable[ast.AST], roots: set[str]) -> set[str]:
    """Names bound to the forbidden libraries: ``torch``, ``F`` in ``import torch.nn.functional as F``…"""
    names = set(roots)
    for node in nodes:
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


def find_forbidden_imports(sources: t.Mapping[str, str], modules: t.Collection[str]) -> list[str]:
    """Where the student's source imports a forbidden module (``fastai.learner``) or a part of it.

    ``modules`` are dotted prefixes: ``"fastai"`` forbids ``import fastai.vision.all`` and
    ``from fastai.learner import Learner`` alike, star imports included.
    """
    def forbidden(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in modules)

    found: list[str] = []
    for filename, tree in parsed(sources):
        for node in index(tree)[0]:
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


def find_outside_imports(sources: t.Mapping[str, str]) -> list[str]:
    """Where the package imports code that is not among its own files, which the scan therefore never read.

    An absolute import of another folder or module at the submission's root (``import pooling`` in
    conv, a root-level ``helper.py``) counts, and so does an import of the package's own module
    that is not among its files (one written while it runs, a ``__pycache__`` folder). Needs the
    :class:`~grader.scratch.Sources` of :func:`~grader.scratch.read_sources` (a plain dict has no root).
    """
    package = getattr(sources, "package", None)
    if not package:
        return []
    own, trees = own_modules(sources, package), dict(parsed(sources))
    bound: dict[str | None, set[str] | None] = {}
    return [h for name, tree in trees.items() for h in _outside(name, tree, sources, package, own, trees, bound)]


def _outside(filename: str, tree: ast.Module, sources: t.Mapping[str, str], package: str,
             own: dict[str, str | None], trees: dict[str, ast.Module], bound: dict[str | None, set[str] | None]) -> list[str]:
    roots = getattr(sources, "root_names", frozenset())
    base = module_of(filename, package)[1].split(".")
    found = []
    for node in index(tree)[0]:
        if isinstance(node, ast.Import):
            wanted = [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            wanted = [(node.module, [a.name for a in node.names])]
        elif isinstance(node, ast.ImportFrom) and node.level - 1 < len(base):
            where = ".".join(base[: len(base) - (node.level - 1)])
            wanted = [(f"{where}.{node.module}" if node.module else where, [a.name for a in node.names])]
        else:
            continue
        for module, names in wanted:
            top = module.split(".")[0]
            if top in roots:
                found.append(f"{filename}, line {node.lineno}: {snippet(node)}")
            elif top == package and not _resolves(module, names, own, trees, bound):
                found.append(f"{filename}, line {node.lineno}: {snippet(node)}")
    return found


def _resolves(module: str, names: list[str], own: dict[str, str | None], trees: dict[str, ast.Module],
              bound: dict[str | None, set[str] | None]) -> bool:
    """Whether ``from module import names`` reaches only the package's own files (or names bound in them)."""
    if module not in own:
        return False
    key = own[module]  # None: a folder without __init__.py, whose names can only be its modules
    if key not in bound:
        tree = trees.get(key) if key else ast.Module(body=[], type_ignores=[])
        starred = tree is not None and any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
                                           for n in index(tree)[0])
        bound[key] = None if starred or tree is None else bound_names(tree)  # unread files are a problem anyway
    names_there = bound[key]
    return all(n == "*" or f"{module}.{n}" in own or names_there is None or n in names_there for n in names)


#: The old name: every dynamic route, not only indirect imports.
find_indirect_imports = find_dynamic_code


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
    """Fail when the student's code used a forbidden API, by name in its source or at run time, or
    when the grader cannot tell what it uses.

    Always (whatever is forbidden): ``sources.problems`` (files :func:`read_sources` could not read
    as UTF-8 Python source), dynamic code (:func:`find_dynamic_code`) and imports of code outside the
    package (:func:`find_outside_imports`) fail, each named with file and line.

    :param ops_seen: aten op names recorded while the student's code ran (``student.recording_ops``).
    :param forbidden_ops: a regular expression for aten op names (e.g. ``"convolution"``); this
        catches indirect calls (getattr tricks, ``torch.ops.aten``) that no source scan sees.
    :param forbidden_modules: dotted module prefixes the student may not import at all (``"fastai"``
        where fastai is the reference).
    :param modules_seen: modules the worker imported (``student.imported_modules()``), a tripwire
        (worker-side evidence only: the worker can empty it).
    """
    __tracebackhide__ = True
    from .testing import fail

    problems = list(getattr(sources, "problems", ()))
    mentions = find_forbidden_names(sources, forbidden_names)
    if forbidden_modules:
        mentions += find_forbidden_imports(sources, forbidden_modules)
    dynamic, outside = find_dynamic_code(sources), find_outside_imports(sources)
    ran = sorted(op for op in ops_seen if re.search(forbidden_ops, op)) if forbidden_ops else []
    loaded = sorted(m for m in modules_seen
                    if any(m == f or m.startswith(f + ".") for f in forbidden_modules))
    if not (problems or mentions or dynamic or outside or ran or loaded):
        return
    names = ", ".join(sorted({*forbidden_names, *forbidden_modules}))
    lines = [f"{what} must be written from scratch; these are forbidden: {names}." if names
             else f"{what} must be written from scratch."]
    for header, found in (
            ("The grader reads every file of your package in full, as UTF-8 Python source; here it cannot:", problems),
            ("Your code uses:", mentions),
            ("Dynamic code hides what is used, so it is not allowed here:", dynamic),
            ("Your code imports code that is not among the files of this exercise's package (another package or "
             "module of the submission, or a module of your package that is not there), and the grader reads only "
             "those files:", outside)):
        found = list(dict.fromkeys(found))
        if found:
            lines += [header, *found[:5]] + ([f"... and {len(found) - 5} more."] if len(found) > 5 else [])
    if ran:
        lines.append(f"While your code ran, the forbidden operation {', '.join(ran[:5])} was executed "
                     "(that is what the forbidden functions call underneath).")
    if loaded:
        lines.append(f"While your code ran, the forbidden module {loaded[0]} was imported.")
    fail("\n".join(lines))
