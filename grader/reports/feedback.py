"""A student's feedback: ``feedback.md`` and ``feedback.html`` (pictures the checks wrote embedded)."""

from __future__ import annotations

import typing as t
from pathlib import Path

from ..results import ExerciseResult

__all__ = ["feedback_markdown"]

_STATUS = {"passed": "✅ passed", "failed": "❌ failed", "error": "💥 error", "timeout": "⏱ timeout",
           "skipped": "– skipped"}



def feedback_markdown(student_id: str, results: t.Sequence[ExerciseResult], notes: t.Sequence[str],
                      out_dir: Path | None = None) -> str:
    """The student's ``feedback.md``; files checks wrote are linked relative to ``out_dir``."""
    lines = [f"# Feedback for {student_id}", ""]
    total, maximum = sum(r.score for r in results), sum(r.max_score for r in results)
    lines += [f"**Total: {total:g} / {maximum:g} points**", ""]
    for note in notes:
        lines.append(f"> {note}")
    for r in results:
        lines += ["", f"## {r.exercise}: {r.score:g} / {r.max_score:g}", ""]
        for note in r.notes:
            lines.append(f"> {note}")
        for c in r.checks:
            name = c.check_id.split("::", 1)[-1]
            lines.append(f"- **{name}** — {_STATUS[c.outcome]} ({c.score:g}/{c.max_score:g})"
                         + (f": {c.title}" if c.title else ""))
            if c.message and not c.passed:
                lines += ["", "  ```text", *("  " + m for m in c.message.splitlines()[:40]), "  ```"]
            for path in c.files:
                lines += ["", f"  Written for you: [{Path(path).name}]({Path(path).relative_to(out_dir) if out_dir and Path(path).is_relative_to(out_dir) else path})"]
            if c.output:
                lines += ["", "  Your output:", "", "  ```text", *("  " + m for m in c.output.splitlines()[:30]),
                          "  ```"]
    return "\n".join(lines) + "\n"
