"""Shared fixtures for the platform's own tests."""

from __future__ import annotations

import os
import shutil
import threading
import typing as t
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=FutureWarning)

from grader._limits import Limits  # noqa: E402
from grader.catalog import Course, find_course  # noqa: E402
from grader.results import ExerciseResult  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"

#: Short limits keep the hostile cases quick; real grading uses the defaults.
TEST_LIMITS = Limits(call_timeout=3.0, import_timeout=15.0, memory_mb=2048)


#: Every exercise of the course; `make test` validates them all.
EXERCISES = sorted(find_course(REPO).exercises())
#: Exercises validated at once (one per core of the CI machine).
VALIDATE_JOBS = int(os.environ.get("GRADE_VALIDATE_JOBS", str(min(2, os.cpu_count() or 1))))


@pytest.fixture(scope="session")
def course() -> Course:
    return find_course(REPO)


class _Validation:
    """`grade validate --quick` of every exercise, started in the background as soon as the session
    knows it needs it (tests/test_course.py, tests/test_i18n.py), at a low priority (nice 15): it
    uses the cycles the other tests leave idle, and they keep theirs (some measure time)."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.reports: dict[str, t.Any] = {}
        self.error: BaseException | None = None

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="validate-in-background", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        from grader.validation import validate_many

        course = find_course(REPO)
        try:
            for report in validate_many([course.exercise(n) for n in EXERCISES], jobs=max(2, VALIDATE_JOBS),
                                        quick=True, nice=15):
                self.reports[report.exercise] = report
        except BaseException as exc:  # noqa: BLE001 - re-raised in the fixture
            self.error = exc

    def wait(self) -> dict[str, t.Any]:
        self.start()
        assert self.thread is not None
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.reports


_VALIDATION = _Validation()


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("validation_reports" in getattr(item, "fixturenames", ()) for item in session.items):
        _VALIDATION.start()


@pytest.fixture(scope="session")
def validation_reports() -> dict[str, t.Any]:
    """`grade validate` of every exercise, once per session: the largest part of `make test`.

    tests/test_course.py holds each exercise to its four promises; tests/test_i18n.py translates the
    same graded results into German instead of grading the stubs and mutants a second time.
    """
    return _VALIDATION.wait()


def make_conv_submission(root: Path, conv_source: str | Path) -> Path:
    """A submission folder ``root`` with ``conv/__init__.py`` and the given ``conv/conv.py``."""
    package = root / "conv"
    package.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / "conv" / "__init__.py", package / "__init__.py")
    text = conv_source.read_text() if isinstance(conv_source, Path) else conv_source
    (package / "conv.py").write_text(text)
    return root


def grade(course: Course, exercise: str, root: Path, *, hidden: bool = True,
          limits: Limits = TEST_LIMITS) -> ExerciseResult:
    """Grade ``exercise`` of the submission in ``root`` with a fresh local sandbox."""
    from grader.runner import run_checks

    ex = course.exercise(exercise)
    with Sandbox(root, [exercise], limits) as sandbox:
        return run_checks(ex, sandbox, root, hidden=hidden)
