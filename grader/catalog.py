"""Where a course's exercises, checks, solutions and references live.

A course is a folder with ``checks/<name>/`` (public checks and ``exercise.toml``) and
``exercises/<name>/`` (the student's stub package); the instructor's copy adds ``solutions/``
and ``reference/<name>/`` (hidden checks, trusted reference, mutants). The student bundle made
by ``grade release`` has only the first two.
"""

from __future__ import annotations

import os
import tomllib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CourseNotFound, ExerciseConfigError, ExerciseNotFound

__all__ = ["Course", "Exercise", "find_course"]


@dataclass(frozen=True)
class Exercise:
    name: str
    course_root: Path
    #: Short English title (``exercise.toml``: ``title``).
    title: str
    #: German title, when given (``title_de``).
    title_de: str = ""
    #: Seconds a single call of the student's code may take, unless a check says otherwise.
    call_timeout: float = 20.0
    config: dict[str, t.Any] = field(default_factory=dict, compare=False)

    @property
    def public_checks(self) -> Path:
        return self.course_root / "checks" / self.name

    @property
    def reference(self) -> Path:
        return self.course_root / "reference" / self.name

    @property
    def hidden_checks(self) -> list[Path]:
        return sorted(self.reference.glob("test_*.py")) if self.reference.is_dir() else []

    @property
    def mutants(self) -> list[Path]:
        folder = self.reference / "mutants"
        return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []

    @property
    def solution(self) -> Path:
        return self.course_root / "solutions" / self.name

    @property
    def stub(self) -> Path:
        return self.course_root / "exercises" / self.name

    @property
    def warm(self) -> tuple[str, ...]:
        """Modules a warm fork server imports before forking workers (``worker_warm`` in
        ``exercise.toml``), e.g. ``torch._dynamo``, which ``torch.optim`` imports on first use (~2 s)."""
        return tuple(str(m) for m in self.config.get("worker_warm", []))

    @property
    def depends(self) -> tuple[str, ...]:
        """The student's own packages of other exercises this one builds on (``depends`` in
        ``exercise.toml``): staged with it, importable from it (no other package is), read by its
        from-scratch rule and named when a check fails while one of them fails its own checks."""
        return tuple(str(m) for m in self.config.get("depends", []))

    def check_files(self, hidden: bool) -> list[Path]:
        files = sorted(self.public_checks.glob("test_*.py"))
        return files + (self.hidden_checks if hidden else [])


@dataclass(frozen=True)
class Course:
    root: Path

    def exercises(self) -> dict[str, Exercise]:
        found = {}
        for folder in sorted((self.root / "checks").iterdir()):
            if (folder / "exercise.toml").is_file():
                found[folder.name] = self._load(folder)
        return found

    def exercise(self, name: str) -> Exercise:
        folder = self.root / "checks" / name
        if not (folder / "exercise.toml").is_file():
            known = ", ".join(self.exercises()) or "none"
            raise ExerciseNotFound(f"No exercise named {name!r}. Known exercises: {known}. Try 'grade list'.")
        return self._load(folder)

    def _load(self, folder: Path) -> Exercise:
        try:
            config = tomllib.loads((folder / "exercise.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ExerciseConfigError(f"{folder / 'exercise.toml'}: {exc}") from exc
        return Exercise(name=folder.name, course_root=self.root, title=str(config.get("title", folder.name)),
                        title_de=str(config.get("title_de", "")),
                        call_timeout=float(config.get("call_timeout", 20.0)), config=config)

    @property
    def config(self) -> dict[str, t.Any]:
        """``course.toml`` at the course's root (optional): ``language`` and ``title``."""
        path = self.root / "course.toml"
        try:
            return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ExerciseConfigError(f"{path}: {exc}") from exc

    @property
    def language(self) -> str:
        """The language the course is taught in: feedback, report and CSV headers of ``grade batch``."""
        return str(self.config.get("language", "de"))

    @property
    def has_hidden(self) -> bool:
        return (self.root / "reference").is_dir()


def _is_course(path: Path) -> bool:
    return (path / "checks").is_dir() and (path / "exercises").is_dir()


def find_course(start: Path | str | None = None) -> Course:
    """The course at ``$GRADE_COURSE``, else the nearest folder upwards from ``start`` (or the
    current folder) that has ``checks/`` and ``exercises/``, else the one this grader came with."""
    if os.environ.get("GRADE_COURSE"):
        root = Path(os.environ["GRADE_COURSE"]).resolve()
        if not _is_course(root):
            raise CourseNotFound(f"GRADE_COURSE={root} has no checks/ and exercises/ folders.")
        return Course(root)
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_course(candidate):
            return Course(candidate)
    bundled = Path(__file__).resolve().parent.parent
    if _is_course(bundled):
        return Course(bundled)
    raise CourseNotFound("No course found: run grade inside the course folder (it has checks/ and "
                         "exercises/), or set GRADE_COURSE.")
