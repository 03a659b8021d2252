"""Build the demo class of ``make demo`` from a small spec (``examples/demo_class.toml``).

A demo that shows the course needs a class: students with full marks, known mistakes, stubs, code
that does not run, a notebook, a copy pair and a hostile student. Committing such a class would
commit copies of the solutions (two sources of truth, and twins the duplicate checks flag), so this
script makes it at build time instead: from ``solutions/``, the mutants in
``reference/<exercise>/mutants/`` (applied as the validation applies them:
:func:`grader.authoring.mutant_submission`), the stubs in ``exercises/`` and the hand-written samples
in ``examples/submissions/``. What each student hands in is described in the spec's header.

The copy (``copy-of:<student>``) is made the way a student disguises copied code: an AST rewrite
renames the local variables of every function, reverses runs of top-level functions whose order
does not matter, and drops comments and layout (``ast.unparse``). Names the checks call, arguments
(callers pass them by keyword) and attributes stay, so the copy is graded like the original.

Usage: ``python scripts/demo_class.py [--spec examples/demo_class.toml] [--out demo-class]``; the
folder is rebuilt from scratch (only a folder this script made is ever removed).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import shutil
import sys
import tempfile
import tomllib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader.authoring import mutant_submission  # noqa: E402
from grader.catalog import Course, Exercise, find_course  # noqa: E402

DEFAULT_SPEC = REPO / "examples" / "demo_class.toml"
SAMPLES = REPO / "examples" / "submissions"
#: Marks a folder this script built, so a rebuild never removes anything else.
MARKER = ".demo-class"
#: A module the ``broken:import`` student forgot to hand in.
MISSING_MODULE = "helpers"
ENTRY_KINDS = ("solution", "mutant", "stub", "copy-of", "broken", "notebook", "sample", "absent")


class SpecError(ValueError):
    """The spec names something that does not exist (an exercise, a mutant, a student, a sample)."""


@dataclass
class Student:
    name: str
    about: str = ""
    #: exercise -> what the student hands in for it (``absent`` ones are left out)
    entries: dict[str, str] = field(default_factory=dict)


def load_spec(path: Path, course: Course) -> list[Student]:
    """The students of the spec, every entry checked against the course."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    exercises = course.exercises()
    students = []
    for name, table in data.get("students", {}).items():
        default = table.get("default", "absent")
        unknown = set(table) - {"about", "default"} - set(exercises)
        if unknown:
            raise SpecError(f"{name}: no exercise called {', '.join(sorted(unknown))}")
        entries = {e: str(table.get(e, default)) for e in sorted(exercises)}
        students.append(Student(name, str(table.get("about", "")),
                                {e: what for e, what in entries.items() if what != "absent"}))
    names = {s.name for s in students}
    for student in students:
        for exercise, what in student.entries.items():
            _check_entry(what, exercises[exercise], names, f"{student.name}.{exercise}")
    return students


def _check_entry(what: str, exercise: Exercise, students: set[str], where: str) -> None:
    kind, _, arg = what.partition(":")
    if kind not in ENTRY_KINDS:
        raise SpecError(f"{where}: {what!r} is none of {', '.join(ENTRY_KINDS)}")
    if kind == "mutant" and not _mutant(exercise, arg).is_file():
        raise SpecError(f"{where}: no mutant reference/{exercise.name}/mutants/{arg}.py")
    if kind == "copy-of" and arg not in students:
        raise SpecError(f"{where}: no student {arg!r} to copy from")
    if kind == "broken" and arg not in ("syntax", "import"):
        raise SpecError(f"{where}: broken:syntax or broken:import, not {what!r}")
    if kind == "sample" and not (SAMPLES / arg / exercise.name).is_dir():
        raise SpecError(f"{where}: no sample examples/submissions/{arg}/{exercise.name}/")
    if kind == "notebook" and arg:
        if arg.startswith(("notebook", "copy-of", "sample")):
            raise SpecError(f"{where}: a notebook is made from solution, mutant:<name>, stub or broken:<how>")
        _check_entry(arg, exercise, students, where)


def _mutant(exercise: Exercise, name: str) -> Path:
    return exercise.reference / "mutants" / f"{name}.py"


# -- what a student hands in ------------------------------------------------------------------------

def _copy_package(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _hand_in(what: str, exercise: Exercise, folder: Path, built: dict[tuple[str, str], Path]) -> None:
    """Write ``folder/<exercise>/`` (or ``folder/<exercise>.ipynb``) for one entry of the spec."""
    kind, _, arg = what.partition(":")
    package = folder / exercise.name
    module = package / f"{exercise.name}.py"
    if kind == "solution":
        _copy_package(exercise.solution, package)
    elif kind == "stub":
        _copy_package(exercise.stub, package)
    elif kind == "sample":
        _copy_package(SAMPLES / arg / exercise.name, package)
    elif kind == "mutant":
        root = mutant_submission(exercise, _mutant(exercise, arg))
        try:
            _copy_package(root / exercise.name, package)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    elif kind == "broken":
        _copy_package(exercise.solution, package)
        text = module.read_text(encoding="utf-8")
        module.write_text(_break_syntax(text) if arg == "syntax" else _break_import(text), encoding="utf-8")
    elif kind == "copy-of":
        source = built[(arg, exercise.name)]
        if not source.is_dir():
            raise SpecError(f"copy-of:{arg}: {arg} handed in {source.name}, not a package, for {exercise.name}")
        _copy_package(source, package)
        for path in sorted(package.rglob("*.py")):
            path.write_text(disguise(path.read_text(encoding="utf-8")), encoding="utf-8")
    elif kind == "notebook":
        with tempfile.TemporaryDirectory(prefix="demo-notebook-") as tmp:
            _hand_in(arg or "solution", exercise, Path(tmp), built)
            code = (Path(tmp) / exercise.name / f"{exercise.name}.py").read_text(encoding="utf-8")
        notebook = folder / f"{exercise.name}.ipynb"
        notebook.write_text(as_notebook(code, exercise), encoding="utf-8")
        built[(folder.name, exercise.name)] = notebook
        return
    built[(folder.name, exercise.name)] = package


def _break_syntax(text: str) -> str:
    """The first ``def`` line loses its colon (the mistake the student's editor would flag)."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped.lstrip().startswith("def ") and stripped.endswith(":"):
            lines[i] = stripped[:-1] + "\n"
            return "".join(lines)
    raise ValueError("no def line to break")


def _break_import(text: str) -> str:
    """Imports a helper module that was never handed in (ModuleNotFoundError on import), right after
    the module's own imports (never before a ``from __future__`` import)."""
    tree = ast.parse(text)
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    at = imports[-1].end_lineno if imports else 0
    lines = text.splitlines(keepends=True)
    lines.insert(at or 0, f"from .{MISSING_MODULE} import check_shapes  # my helpers\n")
    return "".join(lines)


def as_notebook(code: str, exercise: Exercise) -> str:
    """``code`` as the exercise notebook a student saves: the notebook's markdown, one code cell per
    top-level definition, a ``%matplotlib inline`` line the grader drops, the (ungraded) check cell."""
    import nbformat

    from grader.notebooks import CHECK_CELL_MARK

    template = nbformat.read(str(exercise.course_root / "notebooks" / f"{exercise.name}.ipynb"), as_version=4)
    markdown = [c for c in template.cells if c.cell_type == "markdown"]
    checks = [c for c in template.cells if c.cell_type == "code" and c.source.startswith(CHECK_CELL_MARK)]
    cells = [*markdown, nbformat.v4.new_code_cell("%matplotlib inline")]
    cells += [nbformat.v4.new_code_cell(chunk) for chunk in _top_level_chunks(code)]
    cells += checks
    for index, cell in enumerate(cells):
        cell["id"] = f"{exercise.name}-demo-{index}"
    nb = nbformat.v4.new_notebook(cells=cells, metadata=template.metadata)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def _top_level_chunks(code: str) -> list[str]:
    """The module without its docstring, cut before every top-level ``def``/``class``."""
    tree = ast.parse(code)
    lines = code.splitlines()
    body = tree.body
    start = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        start, body = body[0].end_lineno or 0, body[1:]
    cuts = [min([n.lineno, *(d.lineno for d in n.decorator_list)]) - 1 for n in body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    bounds = [start, *(c for c in cuts if c > start), len(lines)]
    chunks = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    return [c for c in chunks if c.strip()]


# -- the disguised copy -------------------------------------------------------------------------------

#: What a copier renames a local variable to (else ``<name>_val``).
_SYNONYMS = {"out": "result", "x": "inp", "n": "count", "i": "idx", "j": "jdx", "k": "kk", "h": "height",
             "w": "width", "p": "param", "g": "grad", "loss": "loss_value", "xp": "padded", "cols": "columns",
             "b": "bb", "c": "cc", "s": "step", "m": "mm", "res": "result", "y": "target", "t": "tt",
             "lr": "rate", "ks": "sizes", "mean": "avg", "var": "variance", "std": "sd"}

_Function = ast.FunctionDef | ast.AsyncFunctionDef


def disguise(source: str) -> str:
    """``source`` as a copier hands it in: locals renamed, functions reordered, no comments."""
    tree = ast.parse(source)
    taken = set(dir(builtins))  # a new name must clash with no name, attribute or argument of the module
    for n in ast.walk(tree):
        taken |= {v for key in ("id", "attr", "arg", "name", "asname") if isinstance(v := getattr(n, key, None), str)}
    mapping: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _rename_locals(node, taken, mapping)
    tree.body = _reorder(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            node.body = _reorder(node.body)
    return ast.unparse(tree) + "\n"


def _params(fn: _Function | ast.Lambda) -> set[str]:
    a = fn.args
    return {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]}


def _rename_locals(fn: _Function, taken: set[str], mapping: dict[str, str]) -> None:
    """Rename the variables ``fn`` binds itself (not its parameters, not ``global``/``nonlocal`` ones),
    everywhere in its body, one new name per old name across the module (``mapping``). Names a nested
    function or lambda takes as parameters are left alone, so a shadowing parameter never sees its
    outer variable's new name; a function with a class or a ``match`` inside is left as it is."""
    nodes = [n for stmt in fn.body for n in ast.walk(stmt)]
    declared = {name for n in nodes if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
    nested = {p for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
              for p in _params(n)}
    nested |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    stored = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    stored |= {n.name for n in nodes if isinstance(n, ast.ExceptHandler) and n.name}
    local = stored - _params(fn) - declared - nested
    if any(isinstance(n, (ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.ClassDef)) for n in nodes):
        return  # match patterns and class bodies bind names the rewrite does not follow
    for name in sorted(local - set(mapping)):
        new = _SYNONYMS.get(name, f"{name}_val")
        while new in taken:
            new += "_"
        taken.add(new)
        mapping[name] = new
    for n in nodes:
        if isinstance(n, ast.Name) and n.id in local:
            n.id = mapping[n.id]
        elif isinstance(n, ast.ExceptHandler) and n.name in local:
            n.name = mapping[n.name]


def _reorder(body: list[ast.stmt]) -> list[ast.stmt]:
    """Reverse each run of consecutive functions, when that cannot change what the module does: the
    names are unique in ``body`` (a later definition that wins stays later) and no decorator, default
    or annotation of the run, evaluated when the ``def`` runs, names a function of the run."""
    counts: dict[str, int] = {}
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[stmt.name] = counts.get(stmt.name, 0) + 1
    out: list[ast.stmt] = []
    run: list[_Function] = []

    def flush() -> None:
        names = {f.name for f in run}
        at_def_time = {n.id for f in run for part in [*f.decorator_list, *f.args.defaults,
                                                      *filter(None, f.args.kw_defaults), f.returns,
                                                      *(a.annotation for a in f.args.args)]
                       if part is not None for n in ast.walk(part) if isinstance(n, ast.Name)}
        safe = len(run) > 1 and all(counts[f.name] == 1 for f in run) and not names & at_def_time
        out.extend(reversed(run) if safe else run)
        run.clear()

    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            run.append(stmt)
        else:
            flush()
            out.append(stmt)
    flush()
    return out


# -- the class ------------------------------------------------------------------------------------------

def build_class(out: Path, spec: Path = DEFAULT_SPEC, course: Course | None = None) -> dict[str, dict[str, Path]]:
    """Build the class into ``out`` (rebuilt from scratch); returns student -> exercise -> what was written."""
    course = course or find_course(REPO)
    students = load_spec(spec, course)
    if out.exists():
        if not (out / MARKER).is_file():
            raise SystemExit(f"{out} exists and was not made by {Path(__file__).name}; not removing it.")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text(f"Built by scripts/demo_class.py from {spec.name}; rebuilt on every run.\n",
                              encoding="utf-8")
    built: dict[tuple[str, str], Path] = {}
    pending = [(s, e, what) for s in students for e, what in s.entries.items()]
    while pending:  # a copy waits until what it copies is built
        later = []
        for student, exercise, what in pending:
            source = what.removeprefix("copy-of:") if what.startswith("copy-of:") else None
            if source is not None and (source, exercise) not in built:
                later.append((student, exercise, what))
                continue
            folder = out / student.name
            folder.mkdir(exist_ok=True)
            _hand_in(what, course.exercise(exercise), folder, built)
        if len(later) == len(pending):
            raise SpecError("copy-of entries that copy nothing handed in: "
                            + ", ".join(f"{s.name}.{e}" for s, e, _ in later))
        pending = later
    for student in students:
        (out / student.name).mkdir(exist_ok=True)  # a student who handed in nothing still has a folder
    return {s.name: {e: built[(s.name, e)] for e in s.entries} for s in students}


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Then: grade batch demo-class --out demo-results")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the class (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("demo-class"), help="folder to build (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        made = build_class(args.out, args.spec)
    except SpecError as exc:
        print(f"Error: {args.spec}: {exc}", file=sys.stderr)
        return 1
    for student, entries in made.items():
        print(f"{student:10} {len(entries):2} exercise(s)")
    print(f"Built {len(made)} students in {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
