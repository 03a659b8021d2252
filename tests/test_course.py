"""The course is right: for every exercise, `grade validate` holds (on CPU here; on CUDA in GPU CI).

Solutions get full marks, stubs get zero, every mutant fails a check and every hidden check
fails on some mutant. All exercises are validated once per session, two at a time (one per core
of the CI machine): this is the largest part of `make test`, and it must fit CI's budget.
"""

from __future__ import annotations

import pytest

from conftest import EXERCISES


@pytest.fixture
def reports(validation_reports):
    return validation_reports


@pytest.mark.parametrize("name", EXERCISES)
def test_exercise_validates(reports, name):
    report = reports[name]
    assert report.ok, "\n".join(report.problems)
    assert len(report.rows) >= 2 + 6  # solution, stub and at least six mutants were graded


def test_cuda_only_mutants_are_skipped_with_a_reason_on_cpu(reports):
    """TF32 exists only on CUDA: on a CPU such mutants are reported as skipped, never as caught."""
    assert any("precision_tf32" in s and "needs cuda" in s for s in reports["conv"].skipped)
    assert not any("precision_tf32" in what for what, *_ in reports["conv"].rows)
