"""Batch outputs, each written atomically (temp file + rename), so a killed batch loses nothing.

``DIR/<student>/results.json`` (Gradescope), ``DIR/<student>/feedback.md``, ``DIR/grades.csv``
and ``DIR/report.html``. Writers only read results; hidden expected values are never in them
because no check message contains them.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
import typing as t
from pathlib import Path

from .results import ExerciseResult, gradescope

__all__ = ["write_student", "read_complete", "write_grades_csv", "write_report_html", "atomic_write",
           "remove_partial_writes"]

#: Files written with :func:`atomic_write`; a killed batch may leave ``.<name>.<random>`` beside them.
_OUTPUT_NAMES = ("results.json", "feedback.md", "grades.csv", "report.html")

_STATUS = {"passed": "✅ passed", "failed": "❌ failed", "error": "💥 error", "timeout": "⏱ timeout",
           "skipped": "– skipped"}


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def remove_partial_writes(out: Path) -> int:
    """Delete temporary files that a killed batch left mid-write; returns how many."""
    removed = 0
    for folder in (out, *(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())) if out.is_dir() else ():
        for name in _OUTPUT_NAMES:
            for leftover in folder.glob(f".{name}.*"):
                leftover.unlink(missing_ok=True)
                removed += 1
    return removed


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


def write_student(out: Path, student_id: str, results: t.Sequence[ExerciseResult], notes: t.Sequence[str],
                  exercises: t.Sequence[str]) -> dict[str, t.Any]:
    """Write feedback.md, then results.json (last: its presence marks the student complete)."""
    folder = out / student_id
    atomic_write(folder / "feedback.md", feedback_markdown(student_id, results, notes, folder))
    data = gradescope(results, output="\n".join(notes))
    data["extra_data"] = {"student_id": student_id, "exercises": list(exercises), "complete": True,
                          "per_exercise": {r.exercise: [r.score, r.max_score] for r in results}}
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


def write_report_html(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str]) -> None:
    """A class report: one row per student, and how often each check failed."""
    failures: dict[str, int] = {}
    for data in rows.values():
        for test in data.get("tests", []):
            if test["status"] != "passed":
                key = str(test["name"]).split(" — ")[0]
                failures[key] = failures.get(key, 0) + 1
    head = "".join(f"<th>{html.escape(e)}</th>" for e in exercises)
    body = []
    for student_id in sorted(rows):
        per = rows[student_id]["extra_data"]["per_exercise"]
        cells = "".join(f"<td>{per.get(e, [0, 0])[0]:g} / {per.get(e, [0, 0])[1]:g}</td>" for e in exercises)
        body.append(f"<tr><td><a href='{html.escape(student_id)}/feedback.md'>{html.escape(student_id)}</a></td>"
                    f"{cells}<td>{rows[student_id]['score']:g} / {rows[student_id]['max_score']:g}</td></tr>")
    hardest = sorted(failures.items(), key=lambda kv: -kv[1])[:25]
    fail_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in hardest)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Class report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child{{text-align:left}}</style></head>
<body><h1>Class report</h1><p>{len(rows)} submissions graded.</p>
<table><tr><th>student</th>{head}<th>total</th></tr>{''.join(body)}</table>
<h2>Checks failed most often</h2><table><tr><th>check</th><th>students</th></tr>{fail_rows}</table>
</body></html>"""
    atomic_write(out / "report.html", page)
