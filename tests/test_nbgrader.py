"""nbgrader: the exported course, nbgrader's submitted/ layout, and grades in its gradebook.

The end-to-end test runs the real nbgrader 0.9.6 (the `dev` extra, which `make test` installs).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from conftest import REPO
from grader.cli import cli
from grader.nbgrader_export import CHECKS_CELL, is_nbgrader_layout, max_points, source_notebook, stage_submitted

try:
    import nbgrader  # noqa: F401

    NBGRADER = None
except ImportError:
    NBGRADER = "nbgrader is not installed (it is the dev extra: make dev, or pip install -e '.[dev]')"


def test_source_notebook_marks_solutions_and_locks_the_graded_cell(course):
    exercise = course.exercise("conv")
    points = max_points(exercise)
    assert points >= 29  # public and hidden checks, parametrized cases counted
    nb = source_notebook(exercise, points)
    nbformat.validate(nb)
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    solutions = [c for c, m in zip(nb.cells, meta) if m and m["solution"]]
    assert solutions and all("# BEGIN SOLUTION" in c.source and "# END SOLUTION" in c.source for c in solutions)
    graded = nb.cells[-1]
    assert graded.metadata["nbgrader"] == {"grade": True, "grade_id": f"conv-{CHECKS_CELL}", "locked": True,
                                           "points": points, "schema_version": 3, "solution": False, "task": False}
    assert "check_notebook('conv')" in graded.source
    assert nb.cells[0].metadata["nbgrader"]["locked"] and nb.cells[0].cell_type == "markdown"


def test_submitted_layout_is_staged_for_grade_batch(tmp_path):
    submitted = tmp_path / "course" / "submitted"
    for student, assignment, name in [("alice", "conv", "conv.ipynb"), ("bob", "conv", "mine.ipynb"),
                                      ("bob", "nope", "nope.ipynb"), ("carol", "conv", "a.ipynb")]:
        (submitted / student / assignment).mkdir(parents=True, exist_ok=True)
        (submitted / student / assignment / name).write_text("{}")
        (submitted / student / assignment / "timestamp.txt").write_text("2026-01-01 00:00:00")
    (submitted / "carol" / "conv" / "b.ipynb").write_text("{}")
    assert is_nbgrader_layout(submitted) == submitted
    assert is_nbgrader_layout(tmp_path / "course") is None  # no nbgrader_config.py
    (tmp_path / "course" / "nbgrader_config.py").write_text("")
    assert is_nbgrader_layout(tmp_path / "course") == submitted
    staged, notes = stage_submitted(submitted, ["conv", "padding_stride"])
    assert sorted(str(p.relative_to(staged)) for p in staged.rglob("*.ipynb")) == ["alice/conv.ipynb",
                                                                                   "bob/conv.ipynb"]
    assert any("nope" in n for n in notes) and any("carol/conv" in n for n in notes)
    plain = tmp_path / "plain" / "submitted" / "dave" / "conv"  # grade batch's own layout keeps working
    plain.mkdir(parents=True)
    (plain / "conv.py").write_text("")
    assert is_nbgrader_layout(plain.parent.parent) is None


@pytest.mark.slow
@pytest.mark.skipif(NBGRADER is not None, reason=NBGRADER or "")
def test_nbgrader_generates_the_assignment_and_its_gradebook_gets_our_scores(tmp_path):
    course_dir = tmp_path / "course"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def nbgrader_cli(*args):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    exported = CliRunner().invoke(cli, ["--course", str(REPO), "export-nbgrader", str(course_dir),
                                        "--exercise", "conv"], catch_exceptions=False)
    assert exported.exit_code == 0, exported.output
    nbgrader_cli("generate_assignment", "conv", "--force")
    released = course_dir / "release" / "conv" / "conv.ipynb"
    release_text = released.read_text()
    assert "raise NotImplementedError()" in release_text and "BEGIN SOLUTION" not in release_text
    solution_body = (REPO / "solutions" / "conv" / "conv.py").read_text().split("# BEGIN SOLUTION")[1]
    assert solution_body.split("# END SOLUTION")[0].strip().splitlines()[0].strip() not in release_text

    for student, notebook in [("alice", course_dir / "source" / "conv" / "conv.ipynb"), ("bob", released)]:
        folder = course_dir / "submitted" / student / "conv"
        folder.mkdir(parents=True)
        (folder / "conv.ipynb").write_text(notebook.read_text())
        (folder / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
    out = tmp_path / "results"
    batch = CliRunner().invoke(cli, ["--course", str(REPO), "batch", str(course_dir / "submitted"), "--out", str(out),
                                     "--exercise", "conv", "--backend", "local", "--jobs", "2",
                                     "--nbgrader-db", str(course_dir / "gradebook.db")], catch_exceptions=False)
    assert batch.exit_code == 0, batch.output
    ours = {s: json.loads((out / s / "results.json").read_text()) for s in ("alice", "bob")}
    full = ours["alice"]["max_score"]
    assert ours["alice"]["score"] == full > 0 and ours["bob"]["score"] == 0

    nbgrader_cli("export")
    with open(course_dir / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == "conv"}
    assert float(rows["alice"]["score"]) == full and float(rows["alice"]["max_score"]) == full
    assert float(rows["bob"]["score"]) == 0
