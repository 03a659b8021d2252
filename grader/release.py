"""``grade release``: the student bundle — stubs, notebooks, public checks and the grader, nothing else.

The bundle stands on its own: its own README, ``pyproject.toml`` (no CUDA wheel forced on a laptop)
and ``Makefile`` with the student's two commands, ``make install`` and ``make check``. Nothing from
``solutions/`` or ``reference/`` is copied, and the bundle is checked afterwards: no file from those
folders, no solution markers, no public check importing ``reference``, and no non-trivial line of
``solutions/`` or ``reference/`` anywhere (see :func:`secret_lines`).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
import typing as t
import zipfile
from pathlib import Path

from .catalog import Course, Exercise
from .errors import GradeError

__all__ = ["make_release", "secret_lines", "find_leaks", "bundle_lines"]

#: Lines shorter than this (stripped) are too common to count as a leak (``return out``, ``"""``).
MIN_SECRET_LINE = 20

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info", ".mypy_cache")

#: The CPU-only wheels of PyTorch (about 200 MB instead of several GB with CUDA).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

_README = """# Deep-learning exercises / Übungen zu Deep Learning

{table}

## Set up (once) / Einrichten (einmal)

```bash
make install        # creates .venv with torch, torchvision, fastai and the `grade` tool
```

`make install` needs Python 3.11 or newer. Without an NVIDIA GPU (most laptops) it installs the
CPU-only PyTorch (about 200 MB) from `{cpu_index}`; with `nvidia-smi` present it installs the
default (CUDA) wheels from PyPI. Choose yourself with `make install TORCH=cpu` or `make install
TORCH=default`. Without make:

```bash
python3 -m venv .venv
.venv/bin/pip install torch=={torch} torchvision=={torchvision} --index-url {cpu_index}   # CPU only
.venv/bin/pip install -e .
```

## Work / Arbeiten

Write your code in `exercises/<name>/<name>.py` where it says `raise NotImplementedError`, or in
the notebook `notebooks/<name>.ipynb` (Jupyter: `.venv/bin/pip install jupyter`, then
`.venv/bin/jupyter lab`; the notebook's last cell runs the checks on the saved notebook).

```bash
make check                                          # public checks of every exercise, one summary table
.venv/bin/grade check conv                          # one exercise, every check with its message
.venv/bin/grade check conv --submission notebooks/conv.ipynb   # the same checks on your notebook
.venv/bin/grade check conv --lang de                # auf Deutsch (default: from LANG=de_DE.UTF-8)
```

`grade check` runs your code in a separate process and tells you which checks pass and why the
others fail. Your instructor grades with further, hidden checks of the same kind; they are not
part of this folder (`grade check --hidden` says so). `grade check` gives your package
{import_timeout:g} s to import; if your code really needs longer, pass `--timeout SECONDS`.

`grade check` führt deinen Code in einem eigenen Prozess aus und sagt dir, welche Checks bestehen
und warum die anderen scheitern. Bewertet wird zusätzlich mit verdeckten Checks derselben Art.
"""

_MAKEFILE = """# The student's two commands (see README.md):
#   make install   create .venv and install torch, torchvision, fastai and the grader into it
#   make check     run the public checks of every exercise and print one summary table
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# cpu: CPU-only PyTorch wheels (small; right for laptops without an NVIDIA GPU); default: PyPI's.
TORCH  ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo default || echo cpu)
PIP_FLAGS ?=

.PHONY: install check

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
ifeq ($(TORCH),cpu)
	$(PY) -m pip install --disable-pip-version-check $(PIP_FLAGS) --index-url {cpu_index} \\
		torch=={torch} torchvision=={torchvision}
endif
	$(PY) -m pip install --disable-pip-version-check $(PIP_FLAGS) -e .
	@touch $(STAMP)

check: $(STAMP)
	$(VENV)/bin/grade check --all
"""

_GITIGNORE = ".venv/\n__pycache__/\n*.egg-info/\ngrade-output/\n.ipynb_checkpoints/\n"

#: Project dependencies a student does not need (Docker is for batch grading).
_INSTRUCTOR_ONLY = ("docker",)


def make_release(course: Course, out: Path, exercises: t.Sequence[str] = (), zip_file: bool = False) -> list[str]:
    """Write the bundle to ``out`` (which must not exist yet); returns the files written.

    ``exercises``: the exercises to release (default: every exercise with a stub). With
    ``zip_file`` the bundle is also written to ``out.zip`` (one top folder, ``out``'s name).
    """
    from .notebooks import stub_notebook_text

    if out.exists():
        raise GradeError(f"{out} already exists; choose a new folder for the bundle.")
    selected = _select(course, exercises)
    out.mkdir(parents=True)
    try:
        for ex in selected:
            shutil.copytree(ex.stub, out / "exercises" / ex.name, ignore=_IGNORE)
            shutil.copytree(ex.public_checks, out / "checks" / ex.name, ignore=_IGNORE)
            notebook = out / "notebooks" / f"{ex.name}.ipynb"
            notebook.parent.mkdir(exist_ok=True)
            notebook.write_text(stub_notebook_text(ex), encoding="utf-8")
        shutil.copytree(Path(__file__).resolve().parent, out / "grader", ignore=_IGNORE)
        pins = _pins(course)
        if (course.root / "course.toml").is_file():
            shutil.copy(course.root / "course.toml", out / "course.toml")
        (out / "pyproject.toml").write_text(_pyproject(course, pins), encoding="utf-8")
        (out / "Makefile").write_text(_MAKEFILE.format(cpu_index=CPU_INDEX, torch=pins.get("torch", ""),
                                                       torchvision=pins.get("torchvision", "")), encoding="utf-8")
        (out / "README.md").write_text(_readme(selected, pins), encoding="utf-8")
        (out / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
        files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        _verify(course, out, files)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    if zip_file:
        archive = out.with_name(out.name + ".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel in files:
                info = zipfile.ZipInfo.from_file(out / rel, f"{out.name}/{rel}")
                with open(out / rel, "rb") as f:
                    zf.writestr(info, f.read(), zipfile.ZIP_DEFLATED)
    return files


def _select(course: Course, names: t.Sequence[str]) -> list[Exercise]:
    known = course.exercises()
    if names:
        chosen = [course.exercise(n) for n in dict.fromkeys(names)]
    else:
        chosen = [ex for ex in known.values() if ex.stub.is_dir()]
    missing = [ex.name for ex in chosen if not ex.stub.is_dir()]
    if missing:
        raise GradeError(f"No stub for {', '.join(missing)} (run 'grade stubs').")
    if not chosen:
        raise GradeError("No exercise to release.")
    return chosen


def _pins(course: Course) -> dict[str, str]:
    pins = {}
    for dep in _dependencies(course):
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", dep.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def _dependencies(course: Course) -> list[str]:
    path = course.root / "pyproject.toml"
    if not path.is_file():
        path = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        deps = tomllib.loads(path.read_text(encoding="utf-8"))["project"]["dependencies"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        deps = ["torch", "torchvision", "fastai", "click>=8.1", "rich>=13", "nbformat>=5.9", "pytest>=8"]
    return [d for d in deps if re.split(r"[<>=!~;\[\s]", d, maxsplit=1)[0].lower() not in _INSTRUCTOR_ONLY]


def _pyproject(course: Course, pins: dict[str, str]) -> str:
    deps = "".join(f'    "{d}",\n' for d in _dependencies(course))
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

# The student bundle: exercises, public checks and the `grade` tool.
# torch is not tied to a CUDA build: `make install` (or README.md) installs the CPU-only wheel
# from {CPU_INDEX} first where there is no NVIDIA GPU, and pip keeps it.
[project]
name = "dl-course-exercises"
version = "1.0.0"
description = "Exercises of the deep-learning course with their public checks and the grade tool."
requires-python = ">=3.11"
dependencies = [
{deps}]

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["py.typed", "checks.ini", "locale/*/LC_MESSAGES/*.po", "locale/*/LC_MESSAGES/*.mo"]
"grader.reports" = ["templates/*"]
"grader.webapp" = ["templates/*", "static/*"]
"""


def _readme(selected: list[Exercise], pins: dict[str, str]) -> str:
    from ._limits import CHECK_IMPORT_TIMEOUT

    rows = ["| Exercise | Title | Titel |", "|---|---|---|"]
    rows += [f"| `{ex.name}` | {ex.title} | {ex.title_de or ex.title} |" for ex in selected]
    return _README.format(table="\n".join(rows), cpu_index=CPU_INDEX, torch=pins.get("torch", "VERSION"),
                          torchvision=pins.get("torchvision", "VERSION"), import_timeout=CHECK_IMPORT_TIMEOUT)


# -- leak check ------------------------------------------------------------------------------------

def _text_lines(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    lines = text.splitlines()
    if path.suffix == ".ipynb":  # code inside a notebook is JSON-escaped: read its cells, too
        try:
            import nbformat

            nb = nbformat.reads(text, as_version=4)
            lines += [line for cell in nb.cells for line in str(cell.get("source", "")).splitlines()]
        except Exception:
            pass
    return lines


def _files(folder: Path) -> t.Iterator[Path]:
    if folder.is_dir():
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".pytest_cache")]
            for name in filenames:
                yield Path(dirpath) / name


def _significant(line: str) -> str | None:
    stripped = line.strip()
    return stripped if len(stripped) > MIN_SECRET_LINE else None


def secret_lines(course: Course) -> set[str]:
    """Non-trivial lines (stripped, longer than :data:`MIN_SECRET_LINE`) of ``solutions/`` and
    ``reference/`` that appear in no stub (``exercises/``), no public check (``checks/``) and not
    in the grader's own code (``for node in ast.walk(tree):`` is nobody's secret)."""
    secret = {s for folder in ("solutions", "reference") for path in _files(course.root / folder)
              for s in map(_significant, _text_lines(path)) if s}
    public_folders = [course.root / "exercises", course.root / "checks", Path(__file__).resolve().parent]
    public = {s for folder in public_folders for path in _files(folder) for s in map(_significant, _text_lines(path)) if s}
    return secret - public


def bundle_lines(bundle: Path) -> t.Iterator[tuple[str, str]]:
    """``(file, stripped line)`` for every line of every file in the bundle (notebook cells too)."""
    for path in _files(bundle):
        for line in _text_lines(path):
            yield str(path.relative_to(bundle)), line.strip()


def find_leaks(course: Course, bundle: Path) -> list[str]:
    """``file: line`` for each line of the bundle that is a secret line of the course."""
    secret = secret_lines(course)
    return [f"{rel}: {line[:80]}" for rel, line in bundle_lines(bundle) if line in secret]


def _verify(course: Course, out: Path, files: list[str]) -> None:
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
    problems += [f"{leak} (a line of solutions/ or reference/)" for leak in find_leaks(course, out)[:20]]
    if problems:
        raise GradeError("The bundle was not written:\n  " + "\n  ".join(problems))
