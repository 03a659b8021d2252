"""Machine-readable class files: ``grades.csv``, a Moodle grade import, JUnit XML for CI dashboards."""

from __future__ import annotations

import csv
import io
import typing as t
from pathlib import Path

from ..atomic import atomic_write

__all__ = ["write_grades_csv", "write_junit", "write_moodle_csv"]


def write_grades_csv(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student_id", *exercises, "total", "max_total"])
    for student_id in sorted(rows):
        per = rows[student_id]["extra_data"]["per_exercise"]
        scores = [per.get(e, [0, 0]) for e in exercises]
        writer.writerow([student_id, *(f"{s[0]:g}" for s in scores), f"{sum(s[0] for s in scores):g}",
                         f"{sum(s[1] for s in scores):g}"])
    atomic_write(out / "grades.csv", buf.getvalue())


def write_junit(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str]) -> None:
    """Not written yet."""


def write_moodle_csv(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str]) -> None:
    """Not written yet."""
