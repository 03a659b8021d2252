"""Machine-readable class files: ``grades.csv``, a Moodle grade import, JUnit XML for CI dashboards.

All three are written from the students' ``results.json`` data (``rows``: student id -> that dict),
never from anything a worker said, and each with :func:`grader.atomic.atomic_write`.

- ``grades.csv`` is for people first (a spreadsheet): its headers are in the batch's language
  (``Studierende, conv, …, Summe, Maximum`` in German); in English they are the machine names of
  the contract (``student_id, <exercise>…, total, max_total``). The *positions* never change:
  the student first, one column per exercise (named by the exercise, in every language), then the
  total and the maximum. Scripts read it with :func:`read_grades_csv`, which maps either language
  back to the machine names.
- ``grades-moodle.csv`` is for Moodle's "Import grades -> CSV file" (see :func:`write_moodle_csv`).
- ``junit.xml`` is for CI dashboards (GitLab, Jenkins, GitHub test reporters; see :func:`write_junit`).
"""

from __future__ import annotations

import csv
import io
import re
import typing as t
import xml.etree.ElementTree as ET
from pathlib import Path

from ..atomic import atomic_write
from ..i18n import _

__all__ = ["write_grades_csv", "write_junit", "write_moodle_csv", "read_grades_csv", "grades_csv_header",
           "xml_safe"]

Rows = t.Mapping[str, dict[str, t.Any]]

#: Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF): a student's print
#: of ``"\x1b[31m"`` or ``"\x00"`` must not make the whole file unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Control characters a CSV cell never needs (tabs and newlines are quoted by the csv module).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")
#: Longest failure ``message`` attribute; the full text goes into the element's body.
_MESSAGE_CHARS = 300


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (ElementTree escapes ``<&>"`` itself)."""
    return _NOT_XML.sub("", text)


def _points(value: float) -> str:
    return f"{value:g}"


def _spreadsheet_cell(text: str) -> str:
    """A student id as a spreadsheet shows it: no control characters, never read as a formula."""
    text = _CONTROL.sub("", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _per_exercise(data: dict[str, t.Any], exercises: t.Sequence[str]) -> list[tuple[float, float]]:
    per = data.get("extra_data", {}).get("per_exercise", {})
    return [(float(per.get(e, [0, 0])[0]), float(per.get(e, [0, 0])[1])) for e in exercises]


def grades_csv_header(exercises: t.Sequence[str]) -> list[str]:
    """The header row of ``grades.csv`` in the current language."""
    return [_("student_id"), *exercises, _("total"), _("max_total")]


def write_grades_csv(out: Path, rows: Rows, exercises: t.Sequence[str]) -> None:
    """``grades.csv``: one row per student, points per exercise, total and maximum (headers translated)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(grades_csv_header(exercises))
    for student_id in sorted(rows):
        scores = _per_exercise(rows[student_id], exercises)
        writer.writerow([_spreadsheet_cell(student_id), *(_points(s) for s, _m in scores),
                         _points(sum(s for s, _m in scores)), _points(sum(m for _s, m in scores))])
    atomic_write(out / "grades.csv", buf.getvalue())


def read_grades_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a ``grades.csv`` in any language, keyed ``student_id``, the exercises, ``total``,
    ``max_total`` (read by position, so a German header reads like an English one)."""
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    if not table:
        return []
    header = table[0]
    keys = ["student_id", *header[1:-2], "total", "max_total"]
    rows = []
    for line in table[1:]:
        row = dict(zip(keys, line))
        sid = row.get("student_id", "")
        if sid.startswith("'") and sid[1:].startswith(_FORMULA_START):
            row["student_id"] = sid[1:]  # undo the spreadsheet guard of _spreadsheet_cell
        rows.append(row)
    return rows


def write_moodle_csv(out: Path, rows: Rows, exercises: t.Sequence[str]) -> None:
    """``grades-moodle.csv`` for Moodle's gradebook: *Grade administration -> Import -> CSV file*.

    UTF-8, comma separated, one header row: ``ID number`` (``ID-Nummer`` in German), one column per
    exercise named by the exercise (points, ``.`` as the decimal point), then ``Total points``
    (``Gesamtpunkte``). No other columns, so nothing in it can overwrite a name or an e-mail address.

    What the instructor chooses in the import dialog (Moodle's *Grade import* documentation):

    - upload the file with *Encoding* UTF-8 and *Separator* comma (Moodle's defaults);
    - *Identify user by*: *Map from* ``ID number`` (the student id, i.e. the name of the student's
      submission folder or zip), *Map to* the Moodle user field those names are: ``useridnumber``
      (ID number) when submissions are named by matriculation number, ``username`` or ``useremail``
      when they are named by login or e-mail address. Moodle stops the import at the first id it
      cannot find, so the submissions must be named exactly like that field (e-mail addresses are
      compared case-sensitively);
    - *Grade item mappings*: each exercise column to its existing grade item, or to *New grade item*
      (Moodle names it after the column and gives it a maximum of 100; set the maximum to the
      exercise's points, the ``max_total`` of ``grades.csv`` per exercise, before students look);
    - ``Total points`` to *Ignore* when Moodle computes the course total itself, or to a grade item
      when the course keeps the platform's whole result as one grade.
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_("ID number"), *exercises, _("Total points")])
    for student_id in sorted(rows):
        scores = _per_exercise(rows[student_id], exercises)
        writer.writerow([_CONTROL.sub("", student_id), *(_points(s) for s, _m in scores),
                         _points(sum(s for s, _m in scores))])
    atomic_write(out / "grades-moodle.csv", buf.getvalue())


def _case(suite: ET.Element, test: dict[str, t.Any]) -> tuple[str, float]:
    """One ``<testcase>`` for one entry of results.json's ``tests``; returns its outcome and time."""
    extra = test.get("extra_data", {})
    check_id = str(extra.get("check_id") or test.get("name", ""))
    exercise, _sep, name = check_id.partition("::")
    outcome, kind = str(extra.get("outcome", "")), str(extra.get("kind", ""))
    seconds = float(extra.get("duration") or 0.0)
    case = ET.SubElement(suite, "testcase", classname=xml_safe(exercise), name=xml_safe(name or check_id),
                         time=f"{seconds:.3f}")
    text = xml_safe(str(test.get("output", "")))
    if outcome == "skipped":
        ET.SubElement(case, "skipped", message=text.split("\n", 1)[0][:_MESSAGE_CHARS])
        return "skipped", seconds
    if outcome == "passed" or (name == "submission" and not kind):
        if text:  # a note beside passing checks (e.g. IPython lines dropped from a notebook)
            ET.SubElement(case, "system-out").text = text
        return "passed", seconds
    hint = xml_safe(str(extra.get("hint", "")))
    first = text.split("\n", 1)[0]
    message = hint or first or outcome
    failure = ET.SubElement(case, "failure", type=kind or outcome, message=message[:_MESSAGE_CHARS])
    failure.text = text
    return "failed", seconds


def write_junit(out: Path, rows: Rows, exercises: t.Sequence[str]) -> None:
    """``junit.xml``: ``<testsuites>`` with one ``<testsuite>`` per student, one ``<testcase>`` per check.

    One suite per student because a student is what one run grades (one results.json, one worker)
    and what a dashboard should let one open: "what failed for s123". Inside it, ``classname`` is the
    exercise and ``name`` the check (``test_bias[seed=1]``), so dashboards group a student's checks by
    exercise. A check that did not pass is a ``<failure>`` whose ``type`` is its kind (``wrong``,
    ``exception``, ``import``, ``timeout``, ``crash``, ``rule``, ``missing``; ``grader.results.KINDS``) and
    whose ``message`` is the known mistake it named, else the first line of its message; the body is
    the whole (already truncated) message. Student code failing is a failure of the submission, not
    an error of the grader, so nothing is an ``<error>``. Skipped checks are ``<skipped>``. Points are
    suite ``<properties>`` (``score``, ``max_score``), since JUnit has no points. Student text passes
    :func:`xml_safe`; ElementTree escapes markup.
    """
    root = ET.Element("testsuites", name="grade batch")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for student_id in sorted(rows):
        data = rows[student_id]
        suite = ET.SubElement(root, "testsuite", name=xml_safe(student_id))
        props = ET.SubElement(suite, "properties")
        for key in ("score", "max_score"):
            ET.SubElement(props, "property", name=key, value=_points(float(data.get(key, 0))))
        ET.SubElement(props, "property", name="exercises",
                      value=xml_safe(",".join(data.get("extra_data", {}).get("exercises", exercises))))
        counts = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
        for test in data.get("tests", []):
            outcome, seconds = _case(suite, test)
            counts["tests"] += 1
            counts["failures"] += outcome == "failed"
            counts["skipped"] += outcome == "skipped"
            counts["time"] += seconds
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", "0")
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", f"{counts['time']:.3f}")
        for key in totals:
            totals[key] += counts[key]
    for key in ("tests", "failures", "skipped"):
        root.set(key, str(totals[key]))
    root.set("errors", "0")
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    atomic_write(out / "junit.xml", '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n")
