"""``DIR/report.html``: the class at a glance, one self-contained page an instructor opens offline.

What it shows, from the students' ``results.json`` data only: per exercise the score distribution,
the time grading took and a students x checks heatmap; the known mistakes ranked by how many
students made them; failures by kind; a table of students linking to their ``feedback.html``; and
the pairs copy detection found.

Libraries: the page is rendered by **Jinja2 with autoescape on** (``templates/report.html.j2``),
so every value from the results (student ids, check names, hints) is escaped by markupsafe unless
it is one of our own plots; student ids in links are also percent-quoted. The plots are drawn by
**matplotlib** as inline SVG (:mod:`.plots` says why). Both are installed already (Jinja2 comes
with torch, matplotlib with fastai) and neither needs a browser, a server or the network: the
page has its CSS inline, no script and a Content-Security-Policy that loads nothing remote.
Labels go through :func:`grader.i18n._`, in the language the batch set.
"""

from __future__ import annotations

import json
import math
import statistics
import typing as t
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..atomic import atomic_write
from ..errors import GradeError
from ..i18n import _, language
from ..results import KINDS
from . import plots, safe_text

if t.TYPE_CHECKING:
    from ..catalog import Course

__all__ = ["write_report_html", "report_html", "summarize", "ClassSummary", "ExerciseSummary", "Mistake",
           "read_results", "ResultsDir"]

_NOT_RUN = ("passed", "skipped")
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class ExerciseSummary:
    """One exercise across the class."""

    name: str
    #: The students who submitted it (in the report's order), their points and the seconds grading took.
    students: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    max_score: float = 0.0
    #: Check functions (``test_bias`` for ``conv::test_bias[seed=1]``), in the order they ran.
    checks: list[str] = field(default_factory=list)
    #: ``states[check][student]``: an index into :data:`plots.CELL_STATES`, one column per report student.
    states: list[list[int]] = field(default_factory=list)
    #: Students for whom it was not submitted at all.
    missing: int = 0


@dataclass
class Mistake:
    """A known mistake (a check's hint) and who made it."""

    exercise: str
    hint: str
    #: Distinct (student, check function) pairs that named it: the ranking's count.
    count: int
    students: int
    checks: list[str]


@dataclass
class ClassSummary:
    students: list[str]
    exercises: list[ExerciseSummary]
    mistakes: list[Mistake]
    #: Failed checks by ``(exercise, kind)``, and the students with at least one failure of a kind.
    kinds: dict[tuple[str, str], int]
    kind_students: dict[str, int]
    #: The exercises each student did not submit at all.
    absent: dict[str, set[str]] = field(default_factory=dict)


def _fields(test: t.Mapping[str, t.Any]) -> tuple[str, str, str, str]:
    """``(check_id, outcome, kind, hint)`` of one entry of ``tests`` (older results lack kind and hint)."""
    extra = test.get("extra_data")
    if not isinstance(extra, dict):
        extra = {}
    check_id = str(extra.get("check_id") or str(test.get("name", "")).split(" — ")[0])
    outcome = str(extra.get("outcome") or ("passed" if test.get("status") == "passed" else "failed"))
    return check_id, outcome, str(extra.get("kind") or ""), str(extra.get("hint") or "")


def _pair(value: t.Any) -> tuple[float, float] | None:
    """``[score, max_score]`` of ``per_exercise`` as finite numbers, or None (absent, hand-edited wrong)."""
    try:
        pair = float(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return pair if all(math.isfinite(v) for v in pair) else None


def summarize(rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str]) -> ClassSummary:
    """Everything the report shows, counted from the results.json data (no rendering here)."""
    students = sorted(rows)
    summaries = {e: ExerciseSummary(e) for e in exercises}
    #: ``cells[exercise][function][student]``: the outcomes seen, as bits (see :func:`_state`).
    cells: dict[str, dict[str, dict[str, int]]] = {e: {} for e in exercises}
    mistakes: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    mistake_checks: dict[tuple[str, str], list[str]] = defaultdict(list)
    kinds: Counter[tuple[str, str]] = Counter()
    kind_students: dict[str, set[str]] = defaultdict(set)
    absent: dict[str, set[str]] = {}
    for student in students:
        data = rows[student]
        extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
        per, seconds = extra.get("per_exercise") or {}, extra.get("seconds") or {}
        gone = absent[student] = set()
        for test in data.get("tests") or []:
            if not isinstance(test, dict):
                continue
            check_id, outcome, kind, hint = _fields(test)
            exercise, _sep, name = check_id.partition("::")
            if exercise not in summaries:
                continue
            function = name.split("[", 1)[0]
            if outcome not in _NOT_RUN:
                if kind:
                    kinds[(exercise, kind)] += 1
                    kind_students[kind].add(student)
                if kind == "missing" and exercise not in gone:
                    summaries[exercise].missing += 1
                    gone.add(exercise)
                if hint:
                    mistakes[(exercise, hint)].add((student, function))
                    if function not in mistake_checks[(exercise, hint)]:
                        mistake_checks[(exercise, hint)].append(function)
            if function != "submission":  # the entry for a note about the whole exercise, not a check
                seen = cells[exercise].setdefault(function, {})
                seen[student] = seen.get(student, 0) | _BITS.get(outcome, _FAILED)
        for exercise, summary in summaries.items():
            pair = _pair(per.get(exercise)) if isinstance(per, dict) else None
            if pair is None or exercise in gone:  # not submitted: not a score of 0 the exercise earned
                continue
            summary.students.append(student)
            summary.scores.append(pair[0])
            summary.max_score = max(summary.max_score, pair[1])
            took = _float(seconds.get(exercise)) if isinstance(seconds, dict) else 0.0
            summary.seconds.append(took)
    for exercise, summary in summaries.items():
        summary.checks = list(cells[exercise])
        summary.states = [[_STATE[cells[exercise][check].get(s, 0)] for s in students] for check in summary.checks]
    order = {e: i for i, e in enumerate(exercises)}
    ranked = sorted(mistakes.items(), key=lambda kv: (-len(kv[1]), -len({s for s, _f in kv[1]}),
                                                       order[kv[0][0]], kv[0][1]))
    return ClassSummary(
        students=students, exercises=list(summaries.values()),
        mistakes=[Mistake(e, h, len(pairs), len({s for s, _f in pairs}), mistake_checks[(e, h)])
                  for (e, h), pairs in ranked],
        kinds=dict(kinds), kind_students={k: len(v) for k, v in kind_students.items()}, absent=absent)


_PASSED, _FAILED, _SKIPPED = 1, 2, 4
_BITS = {"passed": _PASSED, "skipped": _SKIPPED}


def _state_of(bits: int) -> int:
    """A heatmap cell: every parameter set of the check passed, some, none, all skipped, or no result."""
    if not bits:
        return plots.CELL_STATES.index("none")
    if bits & _FAILED:
        return plots.CELL_STATES.index("partly" if bits & _PASSED else "failed")
    return plots.CELL_STATES.index("passed" if bits & _PASSED else "skipped")


#: The cell state of every combination of outcome bits.
_STATE = [_state_of(bits) for bits in range(8)]


def _num(value: float, digits: int = 1) -> str:
    """A number the way the report's language writes it (``7,5`` in German)."""
    shown = f"{round(value, digits):g}"
    return shown.replace(".", ",") if language() == "de" else shown


def _percent(part: float, whole: float) -> str:
    if whole <= 0:
        return "–"
    return f"{_num(100 * part / whole, 0)} %" if language() == "de" else f"{_num(100 * part / whole, 0)}%"


def _band(part: float, whole: float) -> str:
    """CSS class of a score cell: none, low, mid, high, full."""
    if whole <= 0:
        return "na"
    share = part / whole
    return "full" if share >= 0.999 else "high" if share >= 0.8 else "mid" if share >= 0.5 else \
        "low" if share > 0 else "zero"


def _title(course: "Course | None", exercise: str) -> str:
    if course is None:
        return ""
    try:
        found = course.exercise(exercise)
    except GradeError:  # a results folder may name an exercise this course lacks
        return ""
    return (found.title_de or found.title) if language() == "de" else found.title


def _labels() -> dict[str, str]:
    """Every fixed string of the page, in the current language."""
    return {
        "title": _("Class report"), "contents": _("Contents"), "overview": _("Overview"),
        "exercises": _("Exercises"), "exercise": _("Exercise"), "students": _("Students"),
        "student": _("Student"), "total": _("Total"), "mean": _("Mean"), "median": _("Median"),
        "full_marks": _("Full marks"), "zero_points": _("Zero points"), "not_submitted": _("Not submitted"),
        "median_time": _("Median time"), "slowest": _("Slowest"), "points": _("Points"),
        "mistakes": _("Known mistakes"), "mistake": _("Mistake"), "checks": _("Checks"),
        "times": _("Times named"), "kinds": _("Failures by kind"), "kind": _("Kind"),
        "failed_checks": _("Failed checks"), "table": _("Students and scores"), "feedback": _("feedback"),
        "similarity": _("Copy detection"), "no_pairs": _("No similar pairs were found."),
        "no_students": _("No complete results yet: no student to show."),
        "no_checks": _("No check of this exercise ran for any student."),
        "no_mistakes": _("No check named a known mistake."), "no_failures": _("No check failed."),
        "heatmap": _("Checks by student"), "score_dist": _("Score distribution"),
        "time_dist": _("Seconds of grading"),
        "students_numbered": _("Students (numbered as in the table of students)"),
        "mistakes_intro": _("A known mistake counts once per student and check function that named it."),
        "kinds_intro": _("Each check that did not pass, by why it did not pass."),
        "heatmap_intro": _("One row per check function, one column per student; a check with several "
                           "parameter sets is partly passed when only some of them passed."),
        "passed": _("passed"), "partly": _("partly passed"), "failed": _("failed"), "skipped": _("skipped"),
        "none": _("no result"), "submitted": _("Submitted"), "more": _("more"),
        "max_points": _("Max. points"),
    }


def _similarity_html(pairs: t.Sequence[t.Any]) -> str | None:
    """What :mod:`.similarity` renders for the pairs, or None when it renders nothing (yet)."""
    from markupsafe import Markup

    from . import similarity

    render = getattr(similarity, "pairs_html", None)
    if not callable(render):
        return None
    shown = str(render(list(pairs)))  # pairs_html escapes what it shows; its fields are its own business
    return Markup(shown) if shown.strip() else None


#: Known mistakes shown; the rest are counted in one line.
MAX_MISTAKES = 60
#: Up to this many students the heatmaps name them; beyond, they are numbered as in the table.
MAX_NAMED_COLUMNS = 40


def report_html(rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str],
                course: "Course | None" = None, similar: t.Sequence[t.Any] = ()) -> str:
    """The page as a string (see :func:`write_report_html`)."""
    summary = summarize(rows, exercises)
    labels = _labels()
    plotter = plots.Plotter(decimal="," if language() == "de" else ".")
    totals = [_float(r.get("score")) for r in rows.values()]
    maxima = [_float(r.get("max_score")) for r in rows.values()]
    title = course.config.get("title", "") if course is not None else ""
    return _environment().get_template("report.html.j2").render(
        lang=language(), l=labels, course_title=safe_text.one_line(str(title)), students=len(summary.students),
        exercises=_exercise_sections(summary, course, labels, plotter),
        exercise_names=[safe_text.one_line(e) for e in exercises],
        exercise_max=[_num(ex.max_score) for ex in summary.exercises],
        mean_total=_percent(sum(totals), sum(maxima)) if totals else "–",
        median_total=_num(statistics.median(totals)) if totals else "–",
        max_total=_num(max(maxima, default=0.0)),
        mistakes=[{"rank": i, "hint": safe_text.one_line(m.hint), "exercise": safe_text.one_line(m.exercise),
                   "checks": ", ".join(safe_text.one_line(c) for c in m.checks), "students": m.students,
                   "count": m.count} for i, m in enumerate(summary.mistakes[:MAX_MISTAKES], 1)],
        more_mistakes=max(0, len(summary.mistakes) - MAX_MISTAKES),
        **_kind_tables(summary, exercises, labels, plotter),
        student_rows=_student_rows(rows, summary, exercises),
        states=[{"label": labels[s], "color": plots.CELL_COLORS[s]} for s in plots.CELL_STATES],
        similarity=_similarity_html(similar), pairs=len(similar))


def _exercise_sections(summary: ClassSummary, course: "Course | None", labels: t.Mapping[str, str],
                       plotter: plots.Plotter) -> list[dict[str, t.Any]]:
    """Per exercise: its line of the overview table, its distributions and its heatmap."""
    from markupsafe import Markup

    named = summary.students if len(summary.students) <= MAX_NAMED_COLUMNS else None
    sections = []
    for index, ex in enumerate(summary.exercises, 1):
        row = {"anchor": f"ex-{index}", "name": safe_text.one_line(ex.name), "title": _title(course, ex.name),
               "submitted": len(ex.students), "missing": ex.missing, "max": _num(ex.max_score),
               "full": sum(1 for s in ex.scores if ex.max_score > 0 and s >= ex.max_score - 1e-9),
               "zero": sum(1 for s in ex.scores if s <= 0),
               "mean": _num(statistics.fmean(ex.scores)) if ex.scores else "–",
               "median": _num(statistics.median(ex.scores)) if ex.scores else "–",
               "median_time": _num(statistics.median(ex.seconds)) + " s" if ex.seconds else "–",
               "slowest": _num(max(ex.seconds)) + " s" if ex.seconds else "–",
               "distribution": "", "heatmap": ""}
        if ex.students:
            row["distribution"] = Markup(plotter.distribution(
                f"dist{index}", ex.scores, ex.max_score, ex.seconds,
                label=f"{ex.name}: {labels['score_dist']} · {labels['time_dist']}", score_label=labels["points"],
                time_label=labels["time_dist"], students_label=labels["students"]))
        if ex.checks and summary.students:
            row["heatmap"] = Markup(plotter.heatmap(
                f"heat{index}", ex.states, ex.checks, named, label=f"{ex.name}: {labels['heatmap']}",
                students_label=labels["students"] if named else labels["students_numbered"]))
        sections.append(row)
    return sections


def _kind_tables(summary: ClassSummary, exercises: t.Sequence[str], labels: t.Mapping[str, str],
                 plotter: plots.Plotter) -> dict[str, t.Any]:
    """The failures by kind: a stacked bar per exercise, a table of exercises x kinds and its totals."""
    from markupsafe import Markup

    names = {k: _(v) for k, v in KINDS.items()}
    names.update({k: safe_text.one_line(k) for _e, k in summary.kinds if k not in names})  # a newer grader's kind
    shown = [k for k in names if any(summary.kinds.get((e, k)) for e in exercises)]
    plot = Markup(plotter.kinds("kinds", list(exercises), summary.kinds, {k: names[k] for k in shown},
                                label=labels["kinds"], count_label=labels["failed_checks"])) if shown else ""
    columns = [{"label": names[k], "color": plots.KIND_COLORS.get(k, "#888888"),
                "total": sum(summary.kinds.get((e, k), 0) for e in exercises),
                "students": summary.kind_students.get(k, 0)} for k in shown]
    table = [{"name": safe_text.one_line(e), "counts": [summary.kinds.get((e, k), 0) for k in shown],
              "total": sum(summary.kinds.get((e, k), 0) for k in shown)} for e in exercises]
    return {"kinds_plot": plot, "kind_columns": columns, "kind_rows": table}


def _student_rows(rows: t.Mapping[str, dict[str, t.Any]], summary: ClassSummary,
                  exercises: t.Sequence[str]) -> list[dict[str, t.Any]]:
    """One row per student: the number the heatmaps use, the link to feedback.html, the scores."""
    table = []
    for number, student in enumerate(summary.students, 1):
        extra = rows[student].get("extra_data")
        per = extra.get("per_exercise") if isinstance(extra, dict) else None
        absent = summary.absent.get(student, set())
        cells, got, most = [], 0.0, 0.0
        for e in exercises:
            pair = _pair(per.get(e)) if isinstance(per, dict) else None
            if pair is None:
                cells.append({"shown": "–", "band": "na", "of": "", "missing": False})
                continue
            got, most = got + pair[0], most + pair[1]
            cells.append({"shown": "–" if e in absent else _num(pair[0]), "band": _band(*pair),
                          "of": f"{_num(pair[0])} / {_num(pair[1])}", "missing": e in absent})
        table.append({"number": number, "id": safe_text.one_line(student),
                      "href": quote(student, safe="") + "/feedback.html",  # the id is a path segment, never a URL
                      "cells": cells, "total": f"{_num(got)} / {_num(most)}", "percent": _percent(got, most),
                      "band": _band(got, most)})
    return table


def _float(value: t.Any) -> float:
    """A number from results.json; 0 for anything else (a hand-edited file, NaN)."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


_ENV: t.Any = None


def _environment() -> t.Any:
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return _ENV


def write_report_html(out: Path, rows: t.Mapping[str, dict[str, t.Any]], exercises: t.Sequence[str],
                      course: "Course | None" = None, similar: t.Sequence[t.Any] = ()) -> None:
    """Write ``out/report.html`` for the students in ``rows`` (student id -> results.json data);
    ``similar`` is :func:`.similarity.find_similar`'s list, shown by ``similarity.pairs_html``."""
    atomic_write(out / "report.html", report_html(rows, exercises, course, similar))


@dataclass
class ResultsDir:
    """What a results folder holds: the complete students, the exercises they cover, the rest."""

    rows: dict[str, dict[str, t.Any]]
    exercises: list[str]
    #: Student folders without a complete results.json for ``exercises`` (missing, broken, partial).
    missing: list[str]
    #: The language most results were written in ("" when none says).
    language: str


def read_results(out: Path, exercises: t.Sequence[str] = ()) -> ResultsDir:
    """Read ``out/<student>/results.json`` for every student folder. Without ``exercises``, the
    exercises are those most students were graded on (a batch grades every student on the same).
    A student counts when :func:`grader.outputs.read_complete` would return their results."""
    folders = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if out.is_dir() else []
    parsed: dict[str, dict[str, t.Any]] = {}
    seen: Counter[tuple[str, ...]] = Counter()
    languages: Counter[str] = Counter()
    for name in folders:
        try:  # each file is parsed once (a class of 200 is 200 files of ~100 KB)
            data = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
            extra = data["extra_data"]
            seen[tuple(str(e) for e in extra["exercises"])] += 1
            languages[str(extra.get("language") or "")] += 1
        except (OSError, ValueError, KeyError, TypeError):
            continue
        parsed[name] = data
    wanted = list(exercises) or (list(max(seen.items(), key=lambda kv: (kv[1], len(kv[0])))[0]) if seen else [])
    rows, missing = {}, []
    for name in folders:
        data = parsed.get(name)
        if data is not None and wanted and _complete(data, wanted):
            rows[name] = data
        else:
            missing.append(name)
    spoken = [lang for lang, _n in languages.most_common() if lang]
    return ResultsDir(rows, wanted, missing, spoken[0] if spoken else "")


def _complete(data: dict[str, t.Any], exercises: t.Sequence[str]) -> bool:
    """:func:`grader.outputs.read_complete`'s test, on data already parsed."""
    extra = data.get("extra_data")
    return (isinstance(extra, dict) and extra.get("complete") is True
            and isinstance(extra.get("per_exercise"), dict) and set(exercises) <= set(extra["per_exercise"]))
