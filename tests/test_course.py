"""The course is right: for every exercise, `grade validate` holds (on CPU here; on CUDA in GPU CI).

Solutions get full marks, stubs get zero, every mutant fails a check and every hidden check
fails on some mutant.
"""

from __future__ import annotations

import pytest

from conftest import REPO
from grader.catalog import find_course
from grader.validation import validate_exercise

EXERCISES = sorted(find_course(REPO).exercises())


@pytest.mark.parametrize("name", EXERCISES)
def test_exercise_validates(course, name):
    report = validate_exercise(course.exercise(name))
    assert report.ok, "\n".join(report.problems)
    assert len(report.rows) >= 2 + 4  # solution, stub and at least four mutants were graded
