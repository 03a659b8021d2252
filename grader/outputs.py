"""A student's batch outputs, each written atomically (temp file + rename), so a killed batch loses nothing.

``DIR/<student>/results.json`` (Gradescope) and the feedback pages; the class's files (grades,
report) are written from the results.json files by :mod:`grader.reports`. Writers only read
results; hidden expected values are never in them because no check message contains them.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from .atomic import atomic_write
from .i18n import language
from .reports.feedback import feedback_html, feedback_markdown
from .results import ExerciseResult, gradescope

__all__ = ["write_student", "read_complete", "atomic_write", "remove_partial_writes"]

#: Files written with :func:`atomic_write`; a killed batch may leave ``.<name>.<random>`` beside them.
_OUTPUT_NAMES = ("results.json", "feedback.md", "feedback.html", "grades.csv", "grades-moodle.csv", "junit.xml",
                 "report.html", "similarity.html")


def remove_partial_writes(out: Path, students: t.Iterable[str] | None = None) -> int:
    """Delete temporary files that a killed batch left mid-write; returns how many.

    ``students``: only in these students' folders, and not in ``out`` itself (a shard of a batch
    must not delete what the other shards, writing into the same ``out``, have in flight).
    """
    removed = 0
    if not out.is_dir():
        folders: t.Iterable[Path] = ()
    elif students is None:
        folders = (out, *(p for p in out.iterdir() if p.is_dir() and not p.is_symlink()))
    else:
        folders = (out / s for s in students if (out / s).is_dir() and not (out / s).is_symlink())
    for folder in folders:
        for name in _OUTPUT_NAMES:
            for leftover in folder.glob(f".{name}.*"):
                leftover.unlink(missing_ok=True)
                removed += 1
    return removed


def write_student(out: Path, student_id: str, results: t.Sequence[ExerciseResult], notes: t.Sequence[str],
                  exercises: t.Sequence[str]) -> dict[str, t.Any]:
    """Write feedback.md, feedback.html, then results.json (last: its presence marks the student complete)."""
    folder = out / student_id
    atomic_write(folder / "feedback.md", feedback_markdown(student_id, results, notes, folder))
    atomic_write(folder / "feedback.html", feedback_html(student_id, results, notes, folder))
    data = gradescope(results, output="\n".join(notes))
    data["extra_data"] = {"student_id": student_id, "exercises": list(exercises), "complete": True,
                          "per_exercise": {r.exercise: [r.score, r.max_score] for r in results},
                          "seconds": {r.exercise: round(r.duration, 3) for r in results},
                          "language": language()}
    atomic_write(folder / "results.json", json.dumps(data, indent=2, ensure_ascii=False))
    return data


def read_complete(out: Path, student_id: str, exercises: t.Sequence[str]) -> dict[str, t.Any] | None:
    """The student's results.json if it exists, parses and covers ``exercises``; else None."""
    try:
        data = json.loads((out / student_id / "results.json").read_text(encoding="utf-8"))
        extra = data["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if extra.get("complete") is True and set(exercises) <= set(extra.get("per_exercise", {})):
        return t.cast(dict[str, t.Any], data)
    return None


