"""`grade batch` end to end: isolation, bad input, hostile students, resume after SIGKILL.

The Docker tests run for real when an engine answers (``make test`` starts one); the same
batch also runs on the local backend.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import HOSTILE, REPO
from grader.reports.exports import read_grades_csv

HOSTILE_BATCH = Path(__file__).resolve().parent / "hostile_batch"
GRADE = [sys.executable, "-m", "grader.cli"]
SECRET = "ALICE-SECRET-7f3a"


def docker_ok() -> bool:
    from grader.docker_backend import docker_available

    return docker_available()


def _conv_package(folder: Path, source: str | Path) -> None:
    folder.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / "conv" / "__init__.py", folder / "__init__.py")
    (folder / "conv.py").write_text(source.read_text() if isinstance(source, Path) else source)


def _solution_source() -> str:
    return (REPO / "solutions" / "conv" / "conv.py").read_text()


def _notebook(cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Faltung")] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def build_submissions(root: Path, hostile: list[str]) -> Path:
    subs = root / "submissions"
    subs.mkdir()
    _conv_package(subs / "alice" / "conv", _solution_source() + f"\n# {SECRET}\n")
    # a zip wrapping everything in one folder, as students often do
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bob/conv/__init__.py", (REPO / "solutions/conv/__init__.py").read_text())
        zf.writestr("bob/conv/conv.py", _solution_source())
    (subs / "bob.zip").write_bytes(buf.getvalue())
    body = _solution_source().split('"""', 2)[2]  # the module without its docstring
    (subs / "carol").mkdir()
    (subs / "carol" / "conv.ipynb").write_text(_notebook(["%matplotlib inline\n!pip install nothing", body]))
    (subs / "empty").mkdir()
    (subs / "broken_notebook").mkdir()
    (subs / "broken_notebook" / "conv.ipynb").write_text('{"cells": [ this is not json')
    (subs / "latin1_notebook").mkdir()
    (subs / "latin1_notebook" / "conv.ipynb").write_bytes(_notebook(["# Größe\nx = 1"]).encode("latin-1"))
    _conv_package(subs / "latin1_source" / "conv", "")
    (subs / "latin1_source" / "conv" / "conv.py").write_bytes("# Größe\ndef conv2d(x, w): return x\n".encode("latin-1"))
    with zipfile.ZipFile(subs / "zip_slip.zip", "w") as zf:
        zf.writestr("../../escaped.py", "print('escaped')")
        zf.writestr("conv/__init__.py", "")
    with zipfile.ZipFile(subs / "zip_absolute.zip", "w") as zf:
        zf.writestr("/tmp/absolute.py", "x = 1")
    with zipfile.ZipFile(subs / "zip_symlink.zip", "w") as zf:
        info = zipfile.ZipInfo("conv/conv.py")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with zipfile.ZipFile(subs / "zip_bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("conv/data.bin", b"\0" * (60 << 20))
    (subs / "not_a_zip.zip").write_bytes(b"PK\x03\x04 garbage")
    (subs / "symlinked").mkdir()
    (subs / "symlinked" / "conv").symlink_to(REPO / "solutions" / "conv")
    for case in hostile:
        source = HOSTILE_BATCH / f"{case}.py" if (HOSTILE_BATCH / f"{case}.py").exists() else HOSTILE / f"{case}.py"
        _conv_package(subs / f"hostile_{case}" / "conv", source)
    return subs


def run_batch(subs: Path, out: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The batch in English (the course's own language, German, is the default), so messages can be read here."""
    return subprocess.run([*GRADE, "--course", str(REPO), "batch", str(subs), "--out", str(out),
                           "--exercise", "conv", "--lang", "en", *args], capture_output=True, text=True,
                          timeout=timeout)


def results(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}


def check_batch_outputs(subs: Path, out: Path, proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    got = results(out)
    students = {p.name[:-4] if p.suffix == ".zip" else p.name for p in subs.iterdir()}
    assert set(got) == students, students ^ set(got)
    for data in got.values():
        assert {"score", "max_score", "tests"} <= set(data) and data["extra_data"]["complete"]
    rows = read_grades_csv(out / "grades.csv")
    assert sorted(r["student_id"] for r in rows) == sorted(students)
    assert (out / "report.html").is_file() and all((out / s / "feedback.md").is_file() for s in students)
    full = got["alice"]["max_score"]
    assert full > 0 and got["alice"]["score"] == full and got["bob"]["score"] == full
    assert got["carol"]["score"] == full, "a notebook with magics is graded like a package"
    assert "IPython line(s)" in (out / "carol" / "feedback.md").read_text()
    expected_messages = {
        "empty": "No conv/ folder", "broken_notebook": "not a valid notebook", "latin1_notebook": "not UTF-8",
        "latin1_source": "not UTF-8", "zip_slip": "leaves its folder", "zip_absolute": "absolute path",
        "zip_symlink": "symbolic link", "zip_bomb": "larger than", "not_a_zip": "not a readable zip",
        "symlinked": "symbolic link",
    }
    for student, words in expected_messages.items():
        feedback = (out / student / "feedback.md").read_text()
        assert got[student]["score"] == 0 and words in feedback, (student, feedback[:800])
    for student, data in got.items():
        if student.startswith("hostile_"):
            assert data["score"] < full, student
    assert not (subs.parent / "escaped.py").exists() and not Path("/tmp/absolute.py").exists()
    for student in got:
        if student != "alice":
            assert SECRET not in (out / student / "feedback.md").read_text(), f"{student} saw alice's code"
    return got


@pytest.mark.skipif(not docker_ok(), reason="no Docker engine answers (run scripts/ensure-docker.sh as root)")
@pytest.mark.parametrize("workers", ["warm", "fresh"])
def test_docker_batch_isolates_hostile_and_broken_submissions(tmp_path, workers):
    from grader.docker_backend import LABEL

    hostile = ["fork_bomb", "disk_filler", "fake_results", "snoop", "network", "kill_parent", "loop_in_call",
               "os_exit_in_call", "memory_hog", "output_flood", "patched_allclose", "tensor_subclass"]
    if workers == "fresh":  # what a container of its own changes; how the worker answers is the same as warm
        hostile = ["fork_bomb", "disk_filler", "fake_results", "network", "kill_parent", "memory_hog"]
    subs = build_submissions(tmp_path, hostile)
    extra = ["--fresh-workers"] if workers == "fresh" else []
    proc = run_batch(subs, tmp_path / "out", "--backend", "docker", "--jobs", "2", *extra)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    got = check_batch_outputs(subs, tmp_path / "out", proc)
    assert "CONNECTED" not in (tmp_path / "out" / "hostile_network" / "feedback.md").read_text()
    assert "no network" in (tmp_path / "out" / "hostile_network" / "feedback.md").read_text()
    # its conv2d returns x, which earns a few points at most; the full-marks files it wrote count for nothing
    assert got["hostile_fake_results"]["score"] < got["hostile_fake_results"]["max_score"] / 4
    leftover = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "containers left behind"


def test_local_batch_isolates_hostile_and_broken_submissions(tmp_path):
    hostile = ["disk_filler", "fake_results", "snoop", "network", "loop_in_call", "memory_hog", "output_flood"]
    subs = build_submissions(tmp_path, hostile)
    proc = run_batch(subs, tmp_path / "out", "--backend", "local", "--jobs", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check_batch_outputs(subs, tmp_path / "out", proc)


def test_sigkill_mid_batch_then_resume_loses_and_duplicates_nothing(tmp_path):
    subs = tmp_path / "submissions"
    for i in range(6):
        _conv_package(subs / f"s{i}" / "conv", _solution_source())
    out = tmp_path / "out"
    cmd = [*GRADE, "--course", str(REPO), "batch", str(subs), "--out", str(out), "--exercise", "conv",
           "--backend", "local", "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/results.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert 1 <= len(before) < 6
    (out / "s5").mkdir(exist_ok=True)
    (out / "s5" / ".results.json.abc123").write_text('{"score": 1')  # as if killed mid-write
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"({len(before)} already done)" in resumed.stdout.replace("\n", " ")
    after = results(out)
    assert sorted(after) == [f"s{i}" for i in range(6)]
    assert all(d["score"] == d["max_score"] > 0 for d in after.values())
    assert all(d["extra_data"]["language"] == "de" for d in after.values()), "the course's language by default"
    assert "Rückmeldung" in (out / "s5" / "feedback.md").read_text()
    for name, mtime in before.items():  # graded once, not again
        assert (out / name / "results.json").stat().st_mtime_ns == mtime
    rows = read_grades_csv(out / "grades.csv")
    assert sorted(r["student_id"] for r in rows) == [f"s{i}" for i in range(6)]
    assert not list(out.glob("*/.results.json.*")), "no half-written files"


def test_batch_cli_errors_are_clear(tmp_path):
    proc = subprocess.run([*GRADE, "--course", str(REPO), "batch", str(tmp_path / "nope"), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 1 and "is not a folder of submissions" in proc.stderr
    (tmp_path / "subs").mkdir()
    proc = subprocess.run([*GRADE, "--course", str(REPO), "batch", str(tmp_path / "subs"), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 1 and "holds no submissions" in proc.stderr


@pytest.mark.parametrize("backend", [
    pytest.param("docker", marks=pytest.mark.skipif(not docker_ok(), reason="no Docker engine answers")), "local"])
def test_ctrl_c_leaves_no_container_and_no_worker(tmp_path, backend):
    from grader.docker_backend import LABEL

    subs = tmp_path / "submissions"
    _conv_package(subs / "a_fast" / "conv", _solution_source())
    for i in range(4):
        _conv_package(subs / f"loop{i}" / "conv", HOSTILE / "loop_in_call.py")
    out = tmp_path / "out"
    cmd = [*GRADE, "--course", str(REPO), "batch", str(subs), "--out", str(out), "--exercise", "conv",
           "--backend", backend, "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/results.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Interrupted" in stdout + stderr and "--resume" in stdout and "Traceback" not in stderr
    if backend == "docker":  # the local backend must not need the docker CLI
        leftover = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL}"], capture_output=True,
                                  text=True)
        assert leftover.stdout.strip() == "", "containers left behind"
    assert len(list(out.glob("*/results.json"))) < 5
    time.sleep(1)
    # a batch's fork servers say --role=grade (validation may run its own beside this test)
    workers = subprocess.run(["pgrep", "-f", f"grader._(worker|zygote).*{tmp_path}|grader._zygote.*--role=grade"],
                             capture_output=True, text=True)
    assert workers.stdout.strip() == "", "worker or fork-server processes left behind"


@pytest.mark.skipif(not docker_ok(), reason="no Docker engine answers (run scripts/ensure-docker.sh as root)")
def test_sigkilled_docker_batch_leaves_no_container(tmp_path):
    """SIGKILL gives the grader no chance to clean up: the engine (auto_remove) and the next batch do."""
    import docker

    from grader.docker_backend import LABEL, OWNER_LABEL, _host_mounts, ensure_local_image

    client = docker.from_env()
    ensure_local_image(client)
    orphan = client.containers.run(  # a leftover of a long-dead grader on this host, still running
        "dl-grader-worker:local-1", [sys.executable, "-c", "import time; time.sleep(600)"], detach=True,
        network_mode="none", volumes=_host_mounts(), labels={LABEL: "old", OWNER_LABEL: f"{socket.gethostname()}:1999999"})
    subs = tmp_path / "submissions"
    _conv_package(subs / "a_fast" / "conv", _solution_source())
    for i in range(3):
        _conv_package(subs / f"loop{i}" / "conv", HOSTILE / "loop_in_call.py")
    out = tmp_path / "out"
    cmd = [*GRADE, "--course", str(REPO), "batch", str(subs), "--out", str(out), "--exercise", "conv",
           "--backend", "docker", "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while not list(out.glob("*/results.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    with pytest.raises(docker.errors.NotFound):
        orphan.reload()  # the new batch swept the dead grader's container when it started
    running = client.containers.list(filters={"label": LABEL})
    assert running, "the batch should be running its containers now"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 60
    while client.containers.list(all=True, filters={"label": LABEL}) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert client.containers.list(all=True, filters={"label": LABEL}) == [], "containers left behind"
