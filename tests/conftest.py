"""Shared fixtures for the platform's own tests."""

from __future__ import annotations

import shutil
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


@pytest.fixture(scope="session")
def course() -> Course:
    return find_course(REPO)


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
