"""The class report (``DIR/report.html``) and ``grade report``, from hand-made results.

No submission is graded here: every class is built from :class:`CheckResult` records turned into
results.json data by :func:`grader.results.gradescope`, as ``grade batch`` does.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.i18n import language, set_language
from grader.reports.class_report import read_results, report_html, summarize, write_report_html
from grader.results import CheckResult, ExerciseResult, gradescope

EVIL_ID = "<img src=x onerror=alert(1)>"
EVIL_HINT = "the kernel is </script><script>alert(1)</script> flipped"


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English and leaves the language as it found it."""
    before = language()
    set_language("en")
    yield
    set_language(before)


def check(exercise: str, name: str, outcome: str = "passed", kind: str = "", hint: str = "",
          points: float = 1.0) -> CheckResult:
    if outcome != "passed" and not kind:
        kind = {"failed": "wrong", "error": "exception", "timeout": "timeout"}.get(outcome, "")
    return CheckResult(f"{exercise}::{name}", f"what {name} looks at", outcome,  # type: ignore[arg-type]
                       points if outcome == "passed" else 0.0, points, kind=kind, hint=hint)  # type: ignore[arg-type]


def results_json(student: str, results: list[ExerciseResult], exercises: list[str] | None = None,
                 lang: str = "en") -> dict:
    """What ``grade batch`` writes to ``<student>/results.json`` (grader.outputs.write_student)."""
    data = gradescope(results)
    data["extra_data"] = {"student_id": student, "exercises": exercises or [r.exercise for r in results],
                          "complete": True, "per_exercise": {r.exercise: [r.score, r.max_score] for r in results},
                          "seconds": {r.exercise: r.duration for r in results}, "language": lang}
    return data


def a_class() -> tuple[dict[str, dict], list[str]]:
    """Four students, two exercises, known mistakes of three sizes, every kind of failure but crashes."""
    flipped, stride, bias = "the kernel is flipped", "the stride is ignored", "the bias is added twice"
    rows = {
        "alice": [ExerciseResult("conv", [check("conv", "test_values[seed=1]", "failed", hint=flipped),
                                          check("conv", "test_values[seed=2]", "failed", hint=flipped),
                                          check("conv", "test_shape")], duration=2.5),
                  ExerciseResult("pool", [check("pool", "test_max", "failed", hint=stride),
                                          check("pool", "test_avg", "error")], duration=1.0)],
        "bob": [ExerciseResult("conv", [check("conv", "test_values[seed=1]", "failed", hint=flipped),
                                        check("conv", "test_values[seed=2]", "passed"),
                                        check("conv", "test_shape", "timeout")], duration=9.0),
                ExerciseResult("pool", [check("pool", "test_max", "failed", hint=stride),
                                        check("pool", "test_avg")], duration=1.5)],
        "carol": [ExerciseResult("conv", [check("conv", "test_values[seed=1]", "failed", hint=flipped),
                                          check("conv", "test_values[seed=2]", "failed", hint=flipped),
                                          check("conv", "test_shape", "failed", hint=flipped)], duration=3.0),
                  ExerciseResult("pool", notes=["Not submitted: there is no pool/ folder."])],
        "dave": [ExerciseResult("conv", [check("conv", "test_values[seed=1]", "failed", hint=bias),
                                         check("conv", "test_values[seed=2]"),
                                         check("conv", "test_shape", "skipped", points=0.0)], duration=1.0),
                 ExerciseResult("pool", [check("pool", "test_max"), check("pool", "test_avg", "failed",
                                                                          kind="rule")], duration=0.5)],
    }
    return {s: results_json(s, r, ["conv", "pool"]) for s, r in rows.items()}, ["conv", "pool"]


class Page(HTMLParser):
    """The elements, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def page() -> str:
    """The English report of :func:`a_class` (drawing plots costs time: shared by the tests that only read it)."""
    before = language()
    set_language("en")
    rows, exercises = a_class()
    yield report_html(rows, exercises)
    set_language(before)


def test_the_report_draws_every_plot_inline(page):
    exercises = ["conv", "pool"]
    parsed = Page(page)
    # per exercise a distribution (scores, time) and a heatmap, and the failures by kind
    assert parsed.tags["svg"] == 2 * len(exercises) + 1
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page and "<metadata" not in page
    ids = [value for _tag, name, value in parsed.attributes if name == "id"]
    assert len(ids) == len(set(ids)), "two plots share an id"
    # self-contained: nothing is fetched (the heatmap is an image inside its SVG, as a data: URI)
    assert not [v for _t, n, v in parsed.attributes if n in ("src", "href", "xlink:href")
                and re.match(r"\s*(https?:|//)", v)]
    assert parsed.tags["script"] == 0 and "Content-Security-Policy" in page


def test_known_mistakes_are_ranked_by_students_and_check_functions(page):
    rows, exercises = a_class()
    mistakes = summarize(rows, exercises).mistakes
    # flipped: alice (test_values twice = once), bob, carol (test_values and test_shape = twice)
    assert [(m.exercise, m.hint, m.count, m.students) for m in mistakes] == [
        ("conv", "the kernel is flipped", 4, 3),
        ("pool", "the stride is ignored", 2, 2),
        ("conv", "the bias is added twice", 1, 1)]
    assert mistakes[0].checks == ["test_values", "test_shape"]
    section = page[page.index('id="mistakes"'):page.index('id="kinds"')]
    assert section.index("flipped") < section.index("stride") < section.index("bias")


def test_failures_are_counted_by_kind(page):
    rows, exercises = a_class()
    summary = summarize(rows, exercises)
    assert summary.kinds == {("conv", "wrong"): 7, ("conv", "timeout"): 1, ("pool", "wrong"): 2,
                             ("pool", "exception"): 1, ("pool", "missing"): 1, ("pool", "rule"): 1}
    assert summary.kind_students == {"wrong": 4, "timeout": 1, "exception": 1, "missing": 1, "rule": 1}
    pool = summary.exercises[1]
    assert pool.missing == 1 and pool.students == ["alice", "bob", "dave"]  # carol did not submit it
    for label in ("wrong values", "exceptions", "timeouts", "from-scratch violations", "not submitted"):
        assert label in page
    assert "crashes" not in page[page.index('id="kinds"'):page.index('id="students"')]


def test_the_heatmap_has_one_cell_per_student_and_check_function():
    rows, exercises = a_class()
    conv = summarize(rows, exercises).exercises[0]
    assert conv.checks == ["test_values", "test_shape"]
    #                      alice     bob       carol     dave
    assert conv.states == [[3, 2, 3, 2],  # failed, partly, failed, partly
                           [1, 3, 3, 4]]  # passed, failed (timeout), failed, skipped


def test_students_link_to_their_feedback_page(tmp_path):
    rows = {s: results_json(s, [ExerciseResult("conv", [check("conv", "test_shape")])])
            for s in ("alice", "eve smith#1")}
    write_report_html(tmp_path, rows, ["conv"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    hrefs = {v for tag, n, v in Page(page).attributes if tag == "a" and n == "href"}
    assert {"alice/feedback.html", "eve%20smith%231/feedback.html"} <= hrefs


def test_a_student_who_did_not_submit_shows_a_dash(page):
    carol = page[page.index("carol/feedback.html"):].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", carol)[:2] == ["0", "–"]  # conv: 0 points, pool: not submitted


def test_the_report_speaks_german_when_the_batch_does():
    rows, exercises = a_class()
    set_language("de")
    page = report_html(rows, exercises)
    assert '<html lang="de">' in page
    for label in ("Klassenbericht", "Bekannte Fehler", "Fehlschläge nach Art", "falsche Werte",
                  "Studierende und Punkte", "Punkteverteilung", "Plagiatserkennung", "teilweise bestanden"):
        assert label in page, label
    assert "Class report" not in page and "Known mistakes" not in page
    set_language("en")
    assert "Class report" in report_html(rows, exercises)


def test_hostile_ids_and_hints_stay_text():
    rows, exercises = a_class()
    evil = [ExerciseResult("conv", [check("conv", "test_values[<b>bold</b>]", "failed", hint=EVIL_HINT),
                                    check("conv", "test_<i>name</i>", "failed", kind="<script>x</script>")])]
    rows[EVIL_ID] = results_json(EVIL_ID, evil, ["conv", "pool"])
    page = report_html(rows, exercises)
    parsed = Page(page)
    assert parsed.tags["img"] == 0 and parsed.tags["script"] == 0
    assert "<b>bold" not in page and "<i>name" not in page  # the check names are text
    assert not [name for _tag, name, _v in parsed.attributes if name.startswith("on")]
    text = "".join(parsed.text)
    assert EVIL_ID in text and EVIL_HINT in text  # shown as what they are, in the tables and in the SVG
    assert text.count("<img src=x onerror=") >= 2  # the table of students and the heatmap's column labels
    href = next(v for tag, n, v in parsed.attributes if tag == "a" and n == "href" and "img" in v)
    assert href == "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/feedback.html"


def test_an_empty_class_still_gets_a_page(tmp_path):
    write_report_html(tmp_path, {}, ["conv"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No complete results yet" in page and Page(page).tags["svg"] == 0
    assert "No similar pairs" in page or "No two students" in page
    assert "Class report" in report_html({}, [])


def test_a_class_where_every_student_errored_still_gets_a_page():
    crashed = "The worker crashed (killed by signal 9)."
    rows = {
        "alice": results_json("alice", [ExerciseResult("conv", [check("conv", "test_shape", "error", kind="crash"),
                                                                check("conv", "test_values", "error", kind="crash")])]),
        "bob": results_json("bob", [ExerciseResult("conv", notes=[f"Grading stopped unexpectedly: {crashed}"])]),
    }
    page = report_html(rows, ["conv"])
    assert "crashes" in page and "No check named a known mistake." in page
    assert Page(page).tags["svg"] == 3  # distribution, heatmap (alice's checks), kinds


def write_results(folder: Path, rows: dict[str, dict]) -> None:
    for student, data in rows.items():
        (folder / student).mkdir(parents=True)
        (folder / student / "results.json").write_text(json.dumps(data), encoding="utf-8")


def test_grade_report_rewrites_the_class_files(tmp_path):
    rows, exercises = a_class()
    for student in rows:
        rows[student]["extra_data"]["language"] = "de"
    write_results(tmp_path, rows)
    (tmp_path / "frank").mkdir()  # killed before its results.json
    (tmp_path / "gina").mkdir()
    (tmp_path / "gina" / "results.json").write_text("{not json", encoding="utf-8")
    write_results(tmp_path, {"hal": results_json("hal", [ExerciseResult("conv", [check("conv", "test_shape")])])})
    runner = CliRunner()
    result = runner.invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "4 student(s)" in result.output and "conv, pool" in result.output
    assert "frank, gina, hal" in result.output  # hal lacks pool
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Klassenbericht" in page  # the language the results were written in
    assert (tmp_path / "grades.csv").is_file()
    only = runner.invoke(cli, ["report", str(tmp_path), "--exercise", "conv", "--lang", "en"])
    assert only.exit_code == 0 and "5 student(s)" in only.output  # hal counts for conv alone
    assert "Class report" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert read_results(tmp_path, ["conv"]).missing == ["frank", "gina"]


def test_grade_report_explains_itself_and_refuses_an_empty_folder(tmp_path):
    runner = CliRunner()
    shown = runner.invoke(cli, ["report", "--help"])
    assert shown.exit_code == 0
    assert "RESULTS_DIR" in shown.output and "grade report results/ --lang en" in shown.output
    empty = runner.invoke(cli, ["report", str(tmp_path)])
    assert empty.exit_code == 1 and "Error" in empty.output and "results.json" in empty.output


def test_matplotlib_is_imported_only_when_a_report_is_written():
    import subprocess
    import sys

    probe = "import sys, grader.batch, grader.reports.class_report, grader.reports.plots; print('matplotlib' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "False", "importing the batch or the report modules imports matplotlib"


def test_hand_edited_results_do_not_break_the_report():
    rows, exercises = a_class()
    rows["alice"]["extra_data"]["per_exercise"]["conv"] = ["NaN", 3]
    rows["bob"]["extra_data"]["seconds"] = {"conv": "slow", "pool": float("inf")}
    rows["carol"]["tests"] = {"not": "a list"}
    rows["dave"]["extra_data"] = ["not", "a dict"]
    rows["dave"]["score"] = "lots"
    page = report_html(rows, exercises)
    assert "Class report" in page and Page(page).tags["svg"] >= 2


def test_an_exercise_the_submission_lacks_counts_as_not_submitted(course, tmp_path):
    """Every check of an absent exercise fails with kind "missing", not as a crash of the worker."""
    from grader.runner import run_checks
    from grader.sandbox import Sandbox

    from conftest import TEST_LIMITS

    (tmp_path / "other").mkdir()
    with Sandbox(tmp_path, [], TEST_LIMITS) as sandbox:
        sandbox.mark_unavailable("conv", "the submission has no folder conv/")
        result = run_checks(course.exercise("conv"), sandbox, tmp_path, hidden=True)
    kinds = {c.kind for c in result.checks if c.outcome != "skipped"}
    assert kinds == {"missing"}, kinds
