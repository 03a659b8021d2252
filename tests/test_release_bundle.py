"""`grade release`: a student bundle that works on its own and holds nothing of solutions/ or reference/."""

from __future__ import annotations

import json
import shutil
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO
from grader.cli import cli

MIN_LINE = 20


def _lines(path: Path) -> list[str]:
    """Every line of a file; for a notebook also every line of its cells (JSON escapes them)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return []
    lines = text.splitlines()
    if path.suffix == ".ipynb":
        lines += [line for cell in json.loads(text)["cells"] for line in "".join(cell["source"]).splitlines()]
    return [line.strip() for line in lines]


def _tree_lines(folder: Path) -> set[str]:
    return {line for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            for line in _lines(p) if len(line) > MIN_LINE}


def _secret_lines() -> set[str]:
    """Non-trivial lines of solutions/ and reference/ that no stub, public check or grader module has."""
    secret = _tree_lines(REPO / "solutions") | _tree_lines(REPO / "reference")
    public = _tree_lines(REPO / "exercises") | _tree_lines(REPO / "checks") | _tree_lines(REPO / "grader")
    return secret - public


def _release(out: Path, *args: str):
    return CliRunner().invoke(cli, ["--course", str(REPO), "release", str(out), *args], catch_exceptions=False)


def test_full_bundle_has_no_line_of_solutions_or_reference(tmp_path):
    result = _release(tmp_path / "bundle", "--zip")
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "bundle"
    files = [p for p in bundle.rglob("*") if p.is_file()]
    rel = {str(p.relative_to(bundle)) for p in files}
    assert {"README.md", "pyproject.toml", "Makefile", "exercises/conv/conv.py", "checks/conv/test_public.py",
            "notebooks/conv.ipynb", "grader/cli.py"} <= rel
    assert not [r for r in rel if r.startswith(("solutions/", "reference/")) or "/reference/" in r]
    secret = _secret_lines()
    assert len(secret) > 200  # the scan has something to find
    leaks = [f"{p.relative_to(bundle)}: {line}" for p in files for line in _lines(p) if line in secret]
    assert not leaks, leaks[:10]
    with zipfile.ZipFile(tmp_path / "bundle.zip") as zf:
        names = zf.namelist()
        assert sorted(names) == sorted(f"bundle/{r}" for r in rel)
        zipped = [line.strip() for name in names for line in zf.read(name).decode("utf-8", "replace").splitlines()]
    assert not [line for line in zipped if line in secret]
    # the bundle is the student's: its own Makefile and pyproject, no CUDA wheel forced, no docker
    makefile, pyproject = (bundle / "Makefile").read_text(), (bundle / "pyproject.toml").read_text()
    assert "install:" in makefile and "check:" in makefile and "grade check --all" in makefile
    assert "download.pytorch.org/whl/cpu" in makefile and "demo" not in makefile
    assert "docker" not in pyproject and "cu1" not in pyproject and "nvidia" not in pyproject
    readme = (bundle / "README.md").read_text()
    assert "make install" in readme and "make check" in readme and "--index-url https://download.pytorch.org/whl/cpu" in readme


def test_release_refuses_a_bundle_that_would_leak(tmp_path, monkeypatch):
    from grader import release

    secret = next(iter(_secret_lines()))
    monkeypatch.setattr(release, "_GITIGNORE", f"{secret}\n")
    result = _release(tmp_path / "bundle")
    assert result.exit_code == 1 and "a line of solutions/ or reference/" in result.output
    assert not (tmp_path / "bundle").exists()


@pytest.mark.slow
def test_bundle_installs_in_a_fresh_venv_and_checks_the_stub(tmp_path):
    bundle = tmp_path / "bundle"
    assert _release(bundle, "--exercise", "conv").exit_code == 0
    assert sorted(p.name for p in (bundle / "exercises").iterdir()) == ["conv"]
    # A fresh virtualenv that sees the project's installed packages through a .pth file: no download.
    venv = bundle / ".venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # type: ignore[attr-defined]
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "_project_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "GRADE_"))}
    env["LANG"] = "C.UTF-8"
    env.pop("LC_ALL", None)
    install = subprocess.run(["make", "install", "TORCH=default", "PIP_FLAGS=--no-index --no-build-isolation -q"],
                             cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    grade = venv / "bin" / "grade"
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader; print(grader.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.stdout.strip() == str(bundle / "grader" / "__init__.py")  # the bundle's grader, not the project's

    student = subprocess.run([str(grade), "check", "conv", "--json"], cwd=bundle, env=env, capture_output=True,
                             text=True, timeout=120)
    data = json.loads(student.stdout)
    assert student.returncode == 1 and data["score"] == 0 and data["max_score"] > 0
    assert all("is not implemented yet" in t["output"] and "conv/conv.py" in t["output"] for t in data["tests"])

    check = subprocess.run(["make", "check"], cwd=bundle, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode != 0  # the stub fails its checks
    assert "Public checks of every exercise" in check.stdout and "0 of 1 exercises complete" in check.stdout

    hidden = subprocess.run([str(grade), "check", "conv", "--hidden"], cwd=bundle, env=env, capture_output=True,
                            text=True, timeout=60)
    assert hidden.returncode == 1 and "Traceback" not in hidden.stderr
    assert hidden.stderr.strip().splitlines() == [
        "Error: No hidden checks for 'conv' here (they are not part of the student bundle)."]


@pytest.mark.slow
def test_bundle_serves_the_thug_cat_app_on_the_students_own_keypoints(tmp_path):
    """After make install, `grade serve keypoints` in the bundle trains the student's own exercises/keypoints/
    (here the stub: the page lists what is still to be written; then a solved copy: a cat with glasses)."""
    from test_serve import free_port, request, stop, wait_ready

    bundle = tmp_path / "bundle"
    assert _release(bundle, "--exercise", "keypoints").exit_code == 0
    venv = bundle / ".venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # type: ignore[attr-defined]
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "_project_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "GRADE_"))}
    env["LANG"] = "C.UTF-8"
    env.pop("LC_ALL", None)
    install = subprocess.run(["make", "install", "TORCH=default", "PIP_FLAGS=--no-index --no-build-isolation -q"],
                             cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    for solved in (False, True):
        if solved:
            shutil.rmtree(bundle / "exercises" / "keypoints")
            shutil.copytree(REPO / "solutions" / "keypoints", bundle / "exercises" / "keypoints")
        port = free_port()
        proc = subprocess.Popen([str(venv / "bin" / "grade"), "serve", "keypoints", "--port", str(port)], cwd=bundle,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            status = wait_ready(port)
            assert status["state"] == ("ready" if solved else "not_ready"), status
            if not solved:
                assert "glasses_transform" in status["missing"] and "KeypointModel" in status["missing"]
                continue
            code, _headers, body = request(port, "POST", "/api/predict", request(port, "GET", "/samples/0.png")[2])
            assert code == 200 and json.loads(body)["glasses"] is not None
        finally:
            log = stop(proc)
            assert "Traceback" not in log, log
