"""The instructor's view of a graded class: feedback pages, the class report, copy detection, exports.

Everything here only *reads* results (``DIR/<student>/results.json``, written in the trusted
process) and writes files with :func:`grader.atomic.atomic_write`. It never imports student code
and never runs it; student text (prints, exception messages) is escaped by :mod:`.safe_text`
before it reaches Markdown, HTML or a terminal. May import: ``grader.results``, ``grader.i18n``,
``grader.catalog``, ``grader.atomic``; nothing of the sandbox.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from ..catalog import Course

__all__ = ["write_class_outputs", "import_in_background"]

#: What the class files need and a batch does not: imported while the students are graded.
_HEAVY_IMPORTS = ("matplotlib.figure", "matplotlib.backends.backend_svg", "matplotlib.ticker", "jinja2",
                  "copydetect", "copydetect.utils", "pygments.lexers.python")


def import_in_background(course: "Course | None" = None, exercises: t.Sequence[str] = ()) -> None:
    """Import the report's libraries (about 1.5 s, mostly matplotlib) in a daemon thread, and with a
    ``course`` fingerprint its stubs and solutions for copy detection (1-2 s for 16 exercises).

    ``grade batch`` calls it once its pool is grading: the trusted main process only waits there,
    so this work no longer adds to the batch's wall time when the class files are written.
    """
    import importlib
    import threading

    def load() -> None:
        for name in _HEAVY_IMPORTS:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the report will say what is missing when it needs it
                pass
        if course is not None:
            try:
                from .similarity import prepare

                prepare(course, exercises)
            except Exception:  # noqa: BLE001 - find_similar computes (and reports) it again at the end
                pass

    threading.Thread(target=load, name="report-imports", daemon=True).start()


def write_class_outputs(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str],
                        course: "Course | None" = None) -> None:
    """Every file about the whole class, from the students' results.json data (``rows``)."""
    from . import class_report, exports, similarity

    exports.write_grades_csv(out, rows, exercises)
    exports.write_junit(out, rows, exercises)
    exports.write_moodle_csv(out, rows, exercises)
    pairs = similarity.find_similar(out, list(rows), exercises, course)
    similarity.write_similarity_html(out, pairs)
    class_report.write_report_html(out, rows, exercises, course, similar=pairs)
