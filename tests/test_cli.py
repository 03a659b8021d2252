"""The `grade` command through click's CliRunner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import HOSTILE, REPO, make_conv_submission
from grader.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, ["--course", str(REPO), *args], catch_exceptions=False)


def test_list_shows_exercises():
    result = invoke("list")
    assert result.exit_code == 0 and "conv" in result.output and "2D convolution" in result.output


def test_solution_gets_full_marks_with_hidden_checks():
    result = invoke("check", "conv", "--submission", str(REPO / "solutions"), "--hidden")
    assert result.exit_code == 0, result.output
    assert "conv: 33/33 points" in result.output.replace("\n", " ") or "33/33" in result.output


def test_untouched_stub_gets_zero_and_a_message_per_check():
    result = invoke("check", "conv", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["score"] == 0 and data["tests"]
    assert all("not implemented yet" in t["output"] for t in data["tests"])
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(data["tests"][0])


def test_json_for_a_wrong_submission_never_contains_expected_values(tmp_path):
    root = make_conv_submission(tmp_path, HOSTILE / "patched_allclose.py")
    result = invoke("check", "conv", "--submission", str(root), "--hidden", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 1 and data["score"] == 0
    assert all(t["status"] == "failed" for t in data["tests"])
    assert "tensor([" not in result.output


def test_unknown_exercise_is_one_clear_error_line():
    result = invoke("check", "nope")
    assert result.exit_code == 1
    assert result.output.startswith("Error: No exercise named 'nope'")


def test_missing_submission_folder_is_a_clear_error(tmp_path):
    result = invoke("check", "conv", "--submission", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "does not exist" in result.output
    result = invoke("check", "conv", "--submission", str(tmp_path))
    assert result.exit_code == 1 and "has no folder conv/" in result.output


def test_bad_option_is_a_usage_error():
    result = invoke("check", "conv", "--device", "tpu")
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_stubs_check_reports_up_to_date():
    result = invoke("stubs", "--check")
    assert result.exit_code == 0 and "up to date" in result.output


def test_release_bundle_has_no_solutions_and_still_grades(tmp_path):
    bundle = tmp_path / "bundle"
    result = invoke("release", str(bundle))
    assert result.exit_code == 0, result.output
    files = [str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()]
    assert not [f for f in files if f.startswith(("solutions/", "reference/"))]
    assert "checks/conv/test_public.py" in files and "exercises/conv/conv.py" in files
    for path in bundle.rglob("*.py"):
        assert "# BEGIN SOLUTION" not in path.read_text() or "grader" in path.parts
    student = CliRunner().invoke(cli, ["--course", str(bundle), "check", "conv", "--json"])
    assert student.exit_code == 1 and json.loads(student.output)["score"] == 0
    hidden = CliRunner().invoke(cli, ["--course", str(bundle), "check", "conv", "--hidden"])
    assert hidden.exit_code == 1 and "No hidden checks" in hidden.output
    again = invoke("release", str(bundle))
    assert again.exit_code == 1 and "already exists" in again.output


def test_check_accepts_a_notebook(tmp_path):
    import nbformat

    body = (REPO / "solutions" / "conv" / "conv.py").read_text().split('"""', 2)[2]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline"), nbformat.v4.new_code_cell(body)]
    path = tmp_path / "conv.ipynb"
    path.write_text(nbformat.writes(nb))
    result = invoke("check", "conv", "--submission", str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["score"] == 3
    assert "IPython line(s)" in result.stderr
    path.write_text("{ not a notebook")
    result = invoke("check", "conv", "--submission", str(tmp_path))
    assert result.exit_code == 1 and "not a valid notebook" in result.output


def test_json_splits_each_checks_time_into_setup_call_student_and_reference():
    """scripts/bench.py reads these to tell the checks' own compute from the platform's overhead."""
    result = invoke("check", "conv", "--submission", str(REPO / "solutions"), "--hidden", "--json")
    extra = [t["extra_data"] for t in json.loads(result.output)["tests"]]
    assert extra and all(e["setup_seconds"] >= 0 and e["duration"] >= 0 for e in extra)
    assert all(e["student_seconds"] <= e["duration"] + 1e-3 and e["reference_seconds"] <= e["duration"] + 1e-3
               for e in extra)
    # the from-scratch check's fixture reads and scans the student's files before the check runs
    scratch = [e for e in extra if "from_scratch" in e["check_id"] or "no_torch" in e["check_id"]]
    assert scratch and max(e["setup_seconds"] for e in scratch) > 0
