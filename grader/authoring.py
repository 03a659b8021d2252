"""Authoring tools: stubs generated from solutions, and mutant submissions for validation.

One source of truth: ``solutions/<name>/`` holds the complete code, with each part the student
writes between ``# BEGIN SOLUTION`` and ``# END SOLUTION``. The stub in ``exercises/<name>/`` is the
same file with every such region replaced by ``raise NotImplementedError(...)`` (inside a
function) or removed (at module level). ``grade stubs`` writes the stubs; ``grade stubs --check``
(and the test suite) fails when they are out of date.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .catalog import Course, Exercise
from .errors import ExerciseConfigError

__all__ = ["make_stub", "stub_files", "sync_stubs", "mutant_submission"]

_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)")


def make_stub(source: str, exercise: str, filename: str = "<source>") -> str:
    """Replace the solution regions of ``source``; raises ``ExerciseConfigError`` on bad markers."""
    out: list[str] = []
    lines = source.splitlines(keepends=True)
    inside = False
    for number, line in enumerate(lines, 1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if inside:
                raise ExerciseConfigError(f"{filename}:{number}: BEGIN SOLUTION inside another solution region")
            inside = True
            indent = begin.group("indent")
            if indent:
                name = _enclosing_function(lines[: number - 1], len(indent))
                out.append(f'{indent}# TODO: your code here\n')
                out.append(f'{indent}raise NotImplementedError("{name}: not implemented yet '
                           f'(exercise {exercise})")\n')
        elif end:
            if not inside:
                raise ExerciseConfigError(f"{filename}:{number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseConfigError(f"{filename}: a solution region is never closed")
    return "".join(out)


def _enclosing_function(before: list[str], indent: int) -> str:
    for line in reversed(before):
        match = _DEF.match(line)
        if match and len(match.group("indent")) < indent:
            return match.group("name")
    return "this part"


def stub_files(exercise: Exercise) -> dict[str, str]:
    """The stub package's files (relative path -> text) as generated from the solution."""
    if not exercise.solution.is_dir():
        raise ExerciseConfigError(f"{exercise.solution} does not exist")
    files = {}
    for path in sorted(exercise.solution.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = str(path.relative_to(exercise.solution))
            text = path.read_text(encoding="utf-8")
            files[rel] = make_stub(text, exercise.name, str(path)) if path.suffix == ".py" else text
    return files


def sync_stubs(course: Course, check: bool = False) -> list[str]:
    """Write (or with ``check``, only compare) every exercise's stub; returns the stale files."""
    stale = []
    for exercise in course.exercises().values():
        if not exercise.solution.is_dir():
            continue
        wanted = stub_files(exercise)
        present = {str(p.relative_to(exercise.stub)) for p in exercise.stub.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts} if exercise.stub.is_dir() else set()
        for rel, text in wanted.items():
            target = exercise.stub / rel
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target.relative_to(course.root)))
                if not check:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
        for rel in sorted(present - set(wanted)):
            stale.append(str((exercise.stub / rel).relative_to(course.root)))
            if not check:
                (exercise.stub / rel).unlink()
    return stale


def mutant_submission(exercise: Exercise, mutant: Path) -> Path:
    """A temporary submission folder: the solution with ``mutant``'s definitions appended.

    A mutant file holds only what differs from the solution (later definitions win), so a
    mutant is a few lines that name one mistake. The solutions of the exercises it builds on
    (``depends``) come along, so the mistake is the only one. The caller removes the returned folder.
    """
    root = Path(tempfile.mkdtemp(prefix=f"mutant-{exercise.name}-"))
    package = root / exercise.name
    shutil.copytree(exercise.solution, package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in exercise.depends:
        shutil.copytree(exercise.solution.parent / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    module = package / f"{exercise.name}.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(f"{text}\n\n# ---- mutant {mutant.stem} ----\n{mutant.read_text(encoding='utf-8')}",
                      encoding="utf-8")
    return root
