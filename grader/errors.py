"""User-facing errors. Each prints as one ``Error: …`` line (click's ``ClickException``), exit 1."""

from __future__ import annotations

import typing as t

import click

__all__ = ["GradeError", "ExerciseNotFound", "SubmissionNotFound", "CourseNotFound", "ExerciseConfigError"]


class GradeError(click.ClickException):
    """Base of every error the ``grade`` command reports without a traceback."""

    exit_code = 1

    def show(self, file: t.IO[t.Any] | None = None) -> None:
        """``Error: …`` on stderr, in the language of the report (``grade check --lang``)."""
        from .i18n import _, translate_text

        click.echo(_("Error: {message}").format(message=translate_text(self.format_message())),
                   file=file, err=file is None)


class CourseNotFound(GradeError):
    pass


class ExerciseNotFound(GradeError):
    pass


class SubmissionNotFound(GradeError):
    pass


class ExerciseConfigError(GradeError):
    pass
