"""Exercise notebooks generated from the stubs, and notebooks graded exactly like folders."""

from __future__ import annotations

import json

import nbformat
from click.testing import CliRunner

from conftest import REPO
from grader.cli import cli
from grader.notebooks import CHECK_CELL_MARK, _code_cells, check_notebook, notebook_to_module, stub_notebook, \
    sync_notebooks


def test_notebooks_are_in_sync_with_the_stubs(course):
    stale = sync_notebooks(course, check=True)
    assert not stale, f"run 'grade stubs' to regenerate: {stale}"
    for ex in course.exercises().values():
        if (ex.stub / f"{ex.name}.py").is_file():
            assert (REPO / "notebooks" / f"{ex.name}.ipynb").is_file()


def test_generated_notebook_explains_holds_the_stub_and_checks_itself(course):
    nb = stub_notebook(course.exercise("conv"))
    nbformat.validate(nb)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert markdown[0].startswith("# 2D convolution from scratch") and "cross-correlation" in markdown[0]
    assert "`F.unfold`" in markdown[0] and "``F" not in markdown[0]  # reST literals became markdown
    assert "```text\nout[n, o, i, j] = bias[o]" in markdown[0]  # and a "::" block a fenced one
    assert any("def conv2d(" in c and "raise NotImplementedError" in c for c in code)
    assert code[-1].startswith(CHECK_CELL_MARK) and "check_notebook('conv')" in code[-1]
    # the check cell is Jupyter's: grading ignores it, without a note
    converted = notebook_to_module(nbformat.writes(nb).encode(), "conv.ipynb")
    assert "check_notebook" not in converted.source and not converted.notes
    assert "def conv2d(" in converted.source


def _solution_notebook(course, tmp_path, name):
    """The generated notebook with the solution pasted into its code cells, as a student would."""
    nb = stub_notebook(course.exercise(name))
    _doc, solution_cells = _code_cells((REPO / "solutions" / name / f"{name}.py").read_text())
    check_cell = nb.cells[-1]
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in solution_cells] + [check_cell]
    path = tmp_path / f"{name}.ipynb"
    path.write_text(nbformat.writes(nb))
    return path


def _check(*args):
    result = CliRunner().invoke(cli, ["--course", str(REPO), "check", *args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_same_solution_same_score_as_folder_and_notebook(course, tmp_path):
    notebook = _solution_notebook(course, tmp_path, "conv")
    folder_code, folder = _check("conv", "--submission", str(REPO / "solutions"), "--hidden")
    notebook_code, graded = _check("conv", "--submission", str(notebook), "--hidden")
    assert folder_code == notebook_code == 0
    assert graded["score"] == folder["score"] == folder["max_score"] > 20
    assert [(t["name"], t["score"], t["status"]) for t in graded["tests"]] == \
        [(t["name"], t["score"], t["status"]) for t in folder["tests"]]


def test_check_cell_grades_the_saved_notebook(course, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook = _solution_notebook(course, tmp_path, "padding_stride")
    monkeypatch.setenv("GRADE_COURSE", str(REPO))
    assert check_notebook("padding_stride") == 0  # finds ./padding_stride.ipynb, as Jupyter's kernel would
    out = capsys.readouterr().out
    assert "padding_stride: 4/4 points" in out or "4/4" in out, out
    notebook.unlink()
    assert check_notebook("padding_stride") == 1
    assert "save the notebook as padding_stride.ipynb" in capsys.readouterr().out


def test_check_all_stages_notebooks_beside_folders(course, tmp_path):
    import shutil

    from grader.summary import gather_submission

    shutil.copytree(REPO / "exercises" / "padding_stride", tmp_path / "padding_stride")
    _solution_notebook(course, tmp_path, "conv")
    exercises = [course.exercise(n) for n in ("conv", "padding_stride", "callbacks")]
    staged, found, notes = gather_submission(course, tmp_path, exercises)
    try:
        assert staged != tmp_path and found == ["conv", "padding_stride"] and notes == []
        assert "def conv2d(" in (staged / "conv" / "conv.py").read_text()
        assert (staged / "padding_stride" / "padding_stride.py").read_text() == \
            (REPO / "exercises" / "padding_stride" / "padding_stride.py").read_text()
    finally:
        shutil.rmtree(staged)
    assert gather_submission(course, REPO / "exercises", exercises)[0] == REPO / "exercises"  # no copy needed
