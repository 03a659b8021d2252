"""Turn a student's notebook ``<name>.ipynb`` into the package ``<name>/``, with nbformat.

The code cells, in order, become the module ``<name>/<name>.py``; ``<name>/__init__.py`` re-exports
it. IPython-only lines (``%magic``, ``!shell``, cells that start with ``%%``) cannot run in plain
Python, so they are dropped and the feedback says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NotebookError", "ConvertedNotebook", "notebook_to_module", "write_notebook_package"]


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
