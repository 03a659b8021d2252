"""``grade release``: the student bundle — exercises, public checks and the grader, nothing else.

Nothing from ``solutions/`` or ``reference/`` is copied, and the bundle is checked afterwards:
no solution markers, no file from those folders, every public check free of ``reference`` imports.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .catalog import Course
from .errors import GradeError

__all__ = ["make_release"]

_STUDENT_README = """# Deep-learning exercises

```bash
make install                 # creates .venv with torch, torchvision, fastai and the grader
.venv/bin/grade list         # the exercises
.venv/bin/grade check conv   # checks your exercises/conv/ (public checks)
```

Write your code in `exercises/<name>/<name>.py` where it says `raise NotImplementedError`.
`grade check` runs your code in a separate process and tells you which checks pass and why
the others fail. The instructor grades with further, hidden checks of the same kind.
"""

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def make_release(course: Course, out: Path) -> list[str]:
    """Write the bundle to ``out`` (which must not exist yet); returns the files written."""
    if out.exists():
        raise GradeError(f"{out} already exists; choose a new folder for the bundle.")
    out.mkdir(parents=True)
    for folder in ("exercises", "checks", "grader", "scripts"):
        if (course.root / folder).is_dir():
            shutil.copytree(course.root / folder, out / folder, ignore=_IGNORE)
    for name in ("pyproject.toml", "Makefile"):
        if (course.root / name).is_file():
            shutil.copy2(course.root / name, out / name)
    (out / "README.md").write_text(_STUDENT_README, encoding="utf-8")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    _verify(out, files)
    return files


def _verify(out: Path, files: list[str]) -> None:
    problems = []
    for rel in files:
        if rel.startswith(("solutions/", "reference/")):
            problems.append(f"{rel} must not be in the bundle")
        if rel.endswith(".py"):
            text = (out / rel).read_text(encoding="utf-8", errors="replace")
            if "# BEGIN SOLUTION" in text and not rel.startswith("grader/"):
                problems.append(f"{rel} contains a solution region (run `grade stubs`)")
            if rel.startswith("checks/") and re.search(r"^\s*(from|import)\s+reference\b", text, re.M):
                problems.append(f"{rel} imports the hidden reference, which students do not get")
    if problems:
        shutil.rmtree(out)
        raise GradeError("The bundle was not written:\n  " + "\n  ".join(problems))
