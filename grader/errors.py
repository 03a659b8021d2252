"""User-facing errors. Each prints as one ``Error: …`` line (click's ``ClickException``), exit 1."""

from __future__ import annotations

import click

__all__ = ["GradeError", "ExerciseNotFound", "SubmissionNotFound", "CourseNotFound", "ExerciseConfigError"]


class GradeError(click.ClickException):
    """Base of every error the ``grade`` command reports without a traceback."""

    exit_code = 1


class CourseNotFound(GradeError):
    pass


class ExerciseNotFound(GradeError):
    pass


class SubmissionNotFound(GradeError):
    pass


class ExerciseConfigError(GradeError):
    pass
