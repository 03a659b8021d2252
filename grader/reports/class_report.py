"""``DIR/report.html``: the class at a glance (self-contained, renders offline)."""

from __future__ import annotations

import html
import typing as t
from pathlib import Path

from ..atomic import atomic_write

if t.TYPE_CHECKING:
    from ..catalog import Course

__all__ = ["write_report_html"]


def write_report_html(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str],
                      course: "Course | None" = None, similar: t.Sequence[t.Any] = ()) -> None:
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
