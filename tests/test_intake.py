"""Notebook conversion and zip intake, without running any student code."""

from __future__ import annotations

import zipfile

import nbformat

from grader.intake import IntakeLimits, stage_submission
from grader.notebooks import notebook_to_module


def test_notebook_magics_dropped_and_future_imports_hoisted():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext autoreload\nimport math"),
                nbformat.v4.new_code_cell("%%bash\necho hi"),
                nbformat.v4.new_code_cell("from __future__ import annotations\ndef f(x: int) -> int:\n    return x")]
    converted = notebook_to_module(nbformat.writes(nb).encode())
    assert converted.source.startswith("from __future__ import annotations")
    compile(converted.source, "nb", "exec")
    assert "echo hi" not in converted.source and "3 IPython line(s)" in converted.notes[0]


def test_zip_bomb_with_lying_header_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(8):
            zf.writestr(f"conv/part{i}.bin", b"\0" * (2 << 20))
    intake = stage_submission(archive, tmp_path / "stage", ["conv"], IntakeLimits(max_total_bytes=10 << 20))
    assert "more than 10 MB" in intake.fatal["conv"]


def test_single_wrapping_folder_in_zip_is_looked_into(tmp_path):
    archive = tmp_path / "dave.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("dave-submission/conv/__init__.py", "")
        zf.writestr("dave-submission/conv/conv.py", "def conv2d(x, w): return x\n")
    intake = stage_submission(archive, tmp_path / "stage", ["conv"])
    assert intake.student_id == "dave" and not intake.fatal and (tmp_path / "stage" / "conv" / "conv.py").is_file()
