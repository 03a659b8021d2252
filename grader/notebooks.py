"""Notebooks, with nbformat: a student's ``<name>.ipynb`` graded as the package ``<name>/``, and
the exercise notebooks ``notebooks/<name>.ipynb`` generated from the stubs.

Grading: the code cells, in order, become the module ``<name>/<name>.py``; ``<name>/__init__.py``
re-exports it. IPython-only lines (``%magic``, ``!shell``, cells that start with ``%%``) cannot run
in plain Python, so they are dropped and the feedback says how many. The generated notebook's last
cell (it starts with :data:`CHECK_CELL_MARK`) runs the checks from Jupyter and is never graded.

Generation (``grade notebooks``, also run by ``grade stubs``): the stub module's docstring becomes
markdown, its code one cell per top-level function or class, and a last cell runs the public
checks on the saved notebook. The output is deterministic, so a test keeps it in sync.
"""

from __future__ import annotations

import ast
import re
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

if t.TYPE_CHECKING:
    from .catalog import Course, Exercise

__all__ = ["NotebookError", "ConvertedNotebook", "notebook_to_module", "write_notebook_package",
           "stub_notebook", "stub_notebook_text", "sync_notebooks", "check_notebook", "CHECK_CELL_MARK"]

#: First line of the generated notebook's check cell; such cells are not part of the graded code.
CHECK_CELL_MARK = "# grade: run the public checks on this notebook"


class NotebookError(ValueError):
    """The notebook cannot be read; ``str()`` says why, for the student."""


@dataclass
class ConvertedNotebook:
    source: str
    notes: list[str] = field(default_factory=list)


def notebook_to_module(raw: bytes, filename: str = "notebook.ipynb") -> ConvertedNotebook:
    """The code of a notebook given as bytes; raises :class:`NotebookError` when it is unreadable."""
    import nbformat

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{filename} is not UTF-8 text (byte {exc.start}); save it again from Jupyter.") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and key errors alike
        raise NotebookError(f"{filename} is not a valid notebook: {str(exc).splitlines()[0][:200]}") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f"{filename} has no list of cells.")
    dropped = 0
    chunks = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if source.lstrip().startswith(CHECK_CELL_MARK):
            continue  # the generated "run the checks" cell: it is Jupyter's, not the solution's
        if source.lstrip().startswith("%%"):
            dropped += source.count("\n") + 1
            continue
        lines = []
        for line in source.splitlines():
            if line.lstrip().startswith(("%", "!")):
                dropped += 1
                lines.append(_indent_of(line) + "pass  # IPython line dropped by the grader")
            else:
                lines.append(line)
        chunks.append(f"# ---- cell {index} ----\n" + "\n".join(lines))
    notes = []
    if dropped:
        notes.append(f"{filename}: {dropped} IPython line(s) (%magic, !shell) were dropped; "
                     "plain Python runs in the grader.")
    if not chunks:
        notes.append(f"{filename} has no code cells.")
    source = "\n\n".join(chunks) + "\n"
    # Jupyter compiles each cell alone, so `from __future__` may stand in any cell; a module needs it first.
    future = [line for line in source.splitlines() if line.startswith("from __future__ import")]
    if future:
        rest = [line for line in source.splitlines() if not line.startswith("from __future__ import")]
        source = "\n".join(dict.fromkeys(future)) + "\n" + "\n".join(rest) + "\n"
    return ConvertedNotebook(source, notes)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def write_notebook_package(converted: ConvertedNotebook, package: Path, name: str) -> None:
    """Write ``package/<name>.py`` and an ``__init__.py`` that re-exports its public names."""
    package.mkdir(parents=True, exist_ok=True)
    (package / f"{name}.py").write_text(converted.source, encoding="utf-8")
    (package / "__init__.py").write_text(f"from .{name} import *  # noqa: F401,F403\n", encoding="utf-8")


# -- exercise notebooks generated from the stubs ---------------------------------------------------

def _markdown(docstring: str) -> str:
    """The stub's reStructuredText-ish docstring as markdown: ````x```` -> ```x```, ``::`` blocks fenced."""
    out: list[str] = []
    lines = docstring.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(re.sub(r"\s*::$", ":", line.rstrip()) if line.strip() != "::" else "")
            i += 1
            base = len(line) - len(line.lstrip())
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            indent = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
            out += ["", "```text", *(b[indent:] for b in block), "```", ""]
            continue
        out.append(line)
        i += 1
    text = "\n".join(out)
    return re.sub(r"``(.+?)``", r"`\1`", text).strip()


def _code_cells(source: str) -> tuple[str, list[str]]:
    """The module docstring, and the rest of the code split before each top-level def/class."""
    tree = ast.parse(source)
    lines = source.splitlines()
    doc = ast.get_docstring(tree, clean=True) or ""
    body = tree.body
    start = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        start = body[0].end_lineno or 0
        body = body[1:]
    cuts = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            while first > start and lines[first - 1].lstrip().startswith("#"):
                first -= 1  # comments right above belong to the definition
            cuts.append(first)
    bounds = [start, *(c for c in cuts if c > start), len(lines)]
    cells = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    return doc, [c for c in cells if c.strip()]


def stub_notebook(exercise: "Exercise") -> t.Any:
    """The exercise's notebook (an ``nbformat`` node) made from ``exercises/<name>/<name>.py``."""
    import nbformat

    module = exercise.stub / f"{exercise.name}.py"
    doc, code = _code_cells(module.read_text(encoding="utf-8"))
    name = exercise.name
    heading = f"# {exercise.title}" + (f"\n*{exercise.title_de}*" if exercise.title_de else "")
    how = (f"Write your code where it says `raise NotImplementedError`. Then save the notebook and run "
           f"the last cell: it runs the public checks on this notebook, as `grade check {name} "
           f"--submission {name}.ipynb` does. Everything in the code cells is graded, except the "
           f"last cell; `%magic` and `!shell` lines are dropped.\n\n"
           f"*Schreibe deinen Code dort, wo `raise NotImplementedError` steht. Speichere das Notebook "
           f"und führe die letzte Zelle aus: Sie prüft dieses Notebook mit den öffentlichen Checks.*")
    cells = [nbformat.v4.new_markdown_cell(heading + "\n\n" + _markdown(doc)),
             nbformat.v4.new_markdown_cell(how)]
    cells += [nbformat.v4.new_code_cell(c) for c in code]
    cells.append(nbformat.v4.new_code_cell(
        f"{CHECK_CELL_MARK} (save it first). This cell is not graded.\n"
        f"from grader.notebooks import check_notebook\n\n"
        f"check_notebook({name!r})"))
    for index, cell in enumerate(cells):
        cell["id"] = f"{name}-{index}"  # deterministic ids: the file only changes when the stub does
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "grade": {"exercise": name, "generated_from": f"exercises/{name}/{name}.py"}})
    nbformat.validate(nb)
    return nb


def stub_notebook_text(exercise: "Exercise") -> str:
    import nbformat

    return nbformat.writes(stub_notebook(exercise)) + "\n"


def sync_notebooks(course: "Course", check: bool = False) -> list[str]:
    """Write (or with ``check``, only compare) ``notebooks/<name>.ipynb`` for every exercise with a
    stub; returns the stale notebooks."""
    stale = []
    for exercise in course.exercises().values():
        if not (exercise.stub / f"{exercise.name}.py").is_file():
            continue
        target = course.root / "notebooks" / f"{exercise.name}.ipynb"
        text = stub_notebook_text(exercise)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(str(target.relative_to(course.root)))
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return stale


def check_notebook(name: str, notebook: str | Path | None = None, *args: str) -> int:
    """Run ``grade check NAME --submission NAME.ipynb`` on the saved notebook and print the report.

    Called by the generated notebook's last cell, in Jupyter (the kernel's folder is the
    notebook's). Extra ``args`` go to ``grade check`` (``"--lang", "de"``). Returns the exit status.
    """
    import os
    import subprocess
    import sys

    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", "").startswith("grader."):
        return 0  # never grade from inside a grader process (a sandboxed worker)
    path = Path(notebook) if notebook else Path.cwd() / f"{name}.ipynb"
    if not path.is_file():
        print(f"{path} not found: save the notebook as {name}.ipynb, or pass its path: "
              f"check_notebook({name!r}, 'path/to/{name}.ipynb').")
        return 1
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")}
    done = subprocess.run([sys.executable, "-m", "grader.cli", "check", name, "--submission", str(path), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=path.parent)
    print(done.stdout.decode("utf-8", "replace"), end="")
    return done.returncode
