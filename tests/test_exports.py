"""grades.csv, grades-moodle.csv and junit.xml, written from synthetic results.json data (nothing is graded)."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import junitparser
import pytest

from grader.i18n import set_language
from grader.reports.exports import read_grades_csv, write_grades_csv, write_junit, write_moodle_csv
from grader.results import CheckResult, ExerciseResult, gradescope

EXERCISES = ["conv", "pooling"]
HOSTILE = "oops \x00\x1b[31m<script>alert(1)</script> & ]]> \ud800 \ufffe done"


def results_json(student_id: str, results: list[ExerciseResult]) -> dict:
    """What ``grader.outputs.write_student`` writes for ``results``."""
    data = gradescope(results)
    data["extra_data"] = {"student_id": student_id, "exercises": EXERCISES, "complete": True,
                          "per_exercise": {r.exercise: [r.score, r.max_score] for r in results},
                          "seconds": {r.exercise: r.duration for r in results}, "language": "de"}
    return data


def check(exercise: str, name: str, outcome: str = "passed", points: float = 2, **kw) -> CheckResult:
    return CheckResult(f"{exercise}::{name}", name, outcome, points if outcome == "passed" else 0, points,
                       duration=0.25, **kw)


@pytest.fixture
def rows() -> dict[str, dict]:
    full = [ExerciseResult("conv", [check("conv", "test_shape"), check("conv", "test_bias[seed=1]")]),
            ExerciseResult("pooling", [check("pooling", "test_max", points=3),
                                       check("pooling", "test_cuda", "skipped", points=0)])]
    mistakes = [ExerciseResult("conv", [check("conv", "test_shape"),
                                        check("conv", "test_bias[seed=1]", "failed", kind="wrong",
                                              hint="the kernel is flipped",
                                              message="conv2d(x, w) has wrong values. It looks like the kernel "
                                                      "is flipped.")]),
                ExerciseResult("pooling", [check("pooling", "test_max", "error", points=3, kind="exception",
                                                 message="Your code raised ValueError: " + HOSTILE,
                                                 output=HOSTILE)])]
    missing = [ExerciseResult("conv", [check("conv", "test_shape", "timeout", kind="timeout",
                                             message="Stopped after 20 s.")],
                              notes=["Dropped 2 IPython line(s) from conv.ipynb."]),
               ExerciseResult("pooling", notes=["No pooling/ folder and no pooling.ipynb in the submission."])]
    return {"s1_full": results_json("s1_full", full), "s2_mistakes": results_json("s2_mistakes", mistakes),
            "-1+s3": results_json("-1+s3", missing)}


@pytest.fixture(params=["de", "en"])
def lang(request):
    set_language(request.param)
    yield request.param
    set_language("en")


def test_grades_csv_headers_follow_the_language_and_read_back_by_position(tmp_path, rows, lang):
    write_grades_csv(tmp_path, rows, EXERCISES)
    header = next(csv.reader((tmp_path / "grades.csv").open(encoding="utf-8")))
    expected = {"de": ["Studierende", "conv", "pooling", "Summe", "Maximum"],
                "en": ["student_id", "conv", "pooling", "total", "max_total"]}
    assert header == expected[lang]
    got = {r["student_id"]: r for r in read_grades_csv(tmp_path / "grades.csv")}
    assert set(got) == set(rows)
    assert got["s1_full"] == {"student_id": "s1_full", "conv": "4", "pooling": "3", "total": "7", "max_total": "7"}
    assert (got["s2_mistakes"]["conv"], got["s2_mistakes"]["total"]) == ("2", "2")
    assert got["-1+s3"]["max_total"] == "2", "a missing exercise counts 0 of 0"


def test_grades_csv_never_hands_a_spreadsheet_a_formula(tmp_path, rows):
    write_grades_csv(tmp_path, rows, EXERCISES)
    ids = [line[0] for line in csv.reader((tmp_path / "grades.csv").open(encoding="utf-8"))][1:]
    assert "'-1+s3" in ids and not any(i.startswith(("=", "+", "-", "@")) for i in ids)


def test_moodle_csv_has_an_identifier_points_per_exercise_and_a_total(tmp_path, rows, lang):
    write_moodle_csv(tmp_path, rows, EXERCISES)
    raw = (tmp_path / "grades-moodle.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "UTF-8 without a byte-order mark"
    table = list(csv.reader(raw.decode("utf-8").splitlines()))
    ident, total = {"de": ("ID-Nummer", "Gesamtpunkte"), "en": ("ID number", "Total points")}[lang]
    assert table[0] == [ident, "conv", "pooling", total]
    assert {r[0]: r[1:] for r in table[1:]} == {"s1_full": ["4", "3", "7"], "s2_mistakes": ["2", "0", "2"],
                                                 "-1+s3": ["0", "0", "0"]}, "ids exactly as Moodle stores them"
    assert all(len(r) == 4 for r in table)


def test_junit_xml_reads_back_with_junitparser_and_counts_match(tmp_path, rows):
    write_junit(tmp_path, rows, EXERCISES)
    xml = junitparser.JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    suites = {s.name: s for s in xml}
    assert list(suites) == sorted(rows), "one suite per student"
    for student_id, suite in suites.items():
        assert suite.tests == len(rows[student_id]["tests"]) == len(list(suite))
        failed = [c for c in suite if c.result and isinstance(c.result[0], junitparser.Failure)]
        assert suite.failures == len(failed) and suite.errors == 0
        props = {p.name: p.value for p in suite.properties()}
        assert float(props["score"]) == rows[student_id]["score"]
        assert float(props["max_score"]) == rows[student_id]["max_score"]
    assert xml.tests == sum(len(r["tests"]) for r in rows.values())

    full = {c.name: c for c in suites["s1_full"]}
    assert {c.classname for c in suites["s1_full"]} == {"conv", "pooling"}
    assert full["test_bias[seed=1]"].is_passed and full["test_bias[seed=1]"].time == pytest.approx(0.25)
    assert full["test_cuda"].is_skipped and suites["s1_full"].skipped == 1

    wrong = {c.name: c for c in suites["s2_mistakes"]}
    failure = wrong["test_bias[seed=1]"].result[0]
    assert failure.type == "wrong" and failure.message == "the kernel is flipped"
    assert "It looks like the kernel is flipped." in failure.text
    assert wrong["test_max"].result[0].type == "exception"

    late = {(c.classname, c.name): c for c in suites["-1+s3"]}
    assert late["conv", "test_shape"].result[0].type == "timeout"
    assert late["conv", "submission"].is_passed, "a note beside checks is not a failure"
    assert "IPython" in late["conv", "submission"].system_out
    assert late["pooling", "submission"].result[0].type == "missing"


def test_junit_xml_holds_student_text_as_text(tmp_path, rows):
    write_junit(tmp_path, rows, EXERCISES)
    raw = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert "<script>" not in raw and "\x00" not in raw and "\x1b" not in raw and "\ufffe" not in raw
    root = ET.fromstring(raw.encode("utf-8"))  # well-formed XML 1.0
    failure = root.find("./testsuite[@name='s2_mistakes']/testcase[@name='test_max']/failure")
    assert "<script>alert(1)</script> & ]]>" in failure.text and failure.get("type") == "exception"
