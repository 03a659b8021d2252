"""Stubs are generated from solutions and stay in sync; mutants are built from solutions."""

from __future__ import annotations

import pytest

from grader.authoring import make_stub, mutant_submission, sync_stubs
from grader.errors import ExerciseConfigError

SOURCE = '''"""Module doc."""
import torch


def helper():
    return 1


def relu(x):
    """Doc stays."""
    # BEGIN SOLUTION
    return x.clamp_min(0)
    # END SOLUTION


# BEGIN SOLUTION
def _private_solution_helper():
    return 2
# END SOLUTION
'''


def test_make_stub_replaces_regions_with_not_implemented():
    stub = make_stub(SOURCE, "basics")
    assert "clamp_min" not in stub and "_private_solution_helper" not in stub
    assert 'raise NotImplementedError("relu: not implemented yet (exercise basics)")' in stub
    assert '"""Doc stays."""' in stub and "def helper():" in stub and "BEGIN SOLUTION" not in stub
    compile(stub, "stub", "exec")


@pytest.mark.parametrize("bad", [
    "    # BEGIN SOLUTION\n    x = 1\n",
    "    # END SOLUTION\n",
    "def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n",
])
def test_broken_markers_are_reported(bad):
    with pytest.raises(ExerciseConfigError):
        make_stub(bad, "x")


def test_committed_stubs_are_in_sync_with_solutions(course):
    assert sync_stubs(course, check=True) == [], "run `grade stubs` and commit exercises/"


def test_every_exercise_has_solution_reference_checks_and_mutants(course):
    for exercise in course.exercises().values():
        assert exercise.solution.is_dir() and exercise.stub.is_dir()
        assert exercise.hidden_checks and exercise.check_files(hidden=False)
        assert len(exercise.mutants) >= 4


def test_mutant_submission_appends_the_mistake(course):
    exercise = course.exercise("conv")
    root = mutant_submission(exercise, exercise.reference / "mutants" / "flipped_kernel.py")
    text = (root / "conv" / "conv.py").read_text()
    assert text.startswith((exercise.solution / "conv.py").read_text()) and "weight.flip" in text
