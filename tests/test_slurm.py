"""`grade slurm`: a class graded by a Slurm job array (one `grade batch --shard K/N` per task) and a
dependent collect job.

The job scripts are checked without a cluster (--dry-run). The rest runs on a real one-node cluster
(`make slurm`, scripts/ensure-slurm.sh) and skips with a reason where `sinfo` does not answer: the
array gives the same grades as one plain batch, and a task cancelled mid-run is made good by
`--resume` without grading anybody twice.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from grader.reports.exports import read_grades_csv
from test_batch import GRADE, _conv_package, _solution_source, run_batch

STUDENTS = ["ada", "ben", "cleo", "dan", "gus"]  # ben, gus: shard 2 of 3 (tests/test_shards.py)


def _slurm(subs: Path, out: Path, *args: str, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, "--course", str(REPO), "slurm", str(subs), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def _class(subs: Path) -> Path:
    for name in STUDENTS:
        source = _solution_source()
        if name == "gus":  # a broken conv: the kernel is flipped
            source += "\n" + (REPO / "reference" / "conv" / "mutants" / "flipped_kernel.py").read_text()
        _conv_package(subs / name / "conv", source)
    return subs


def test_help_teaches():
    proc = subprocess.run([*GRADE, "slurm", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for part in ["--shards", "--dry-run", "--resume", "--no-wait", "afterany", "Examples:", "--device cuda"]:
        assert part in proc.stdout, part


def test_dry_run_prints_the_array_and_the_collect_job_without_a_cluster(tmp_path):
    subs = _class(tmp_path / "subs")
    env = {**os.environ, "PATH": str(tmp_path)}  # no sbatch here: a dry run needs none
    proc = _slurm(subs, tmp_path / "R", "--shards", "3", "--jobs", "2", "--dry-run", env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    out = proc.stdout
    assert "#SBATCH --array=1-3" in out and "#SBATCH --cpus-per-task=2" in out and "#SBATCH --mem=14G" in out
    assert f"#SBATCH --output={tmp_path / 'R' / '.slurm' / 'shard-%a.log'}" in out
    assert "--gres" not in out and "--partition" not in out
    grade = Path(sys.executable).parent / "grade"
    assert f"{grade} --course {REPO} batch {subs} --out {tmp_path / 'R'} --shard $SLURM_ARRAY_TASK_ID/3 " \
           "--resume --jobs 2 --backend auto" in out, out
    assert "--dependency=afterany:" in out
    assert f"{grade} --course {REPO} collect {tmp_path / 'R'} --submissions {subs}" in out
    assert not (tmp_path / "R").exists(), "a dry run writes nothing"

    gpu = _slurm(subs, tmp_path / "R", "--shards", "3", "--device", "cuda", "--partition", "gpu",
                 "--time", "01:30:00", "--mem", "20g", "--dry-run", env=env).stdout
    assert "#SBATCH --gres=gpu:1" in gpu and "--device cuda" in gpu and "#SBATCH --partition=gpu" in gpu
    assert "#SBATCH --time=01:30:00" in gpu and "#SBATCH --mem=20G" in gpu and "#SBATCH --cpus-per-task=1" in gpu
    assert gpu.count("--gres") == 1, "the collect job needs no GPU"


def test_without_slurm_or_cluster_a_clear_error(tmp_path):
    subs = _class(tmp_path / "subs")
    proc = _slurm(subs, tmp_path / "R", env={**os.environ, "PATH": str(tmp_path)})
    assert proc.returncode == 1 and "sbatch is not installed here" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text("#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Unable to contact "
                                 "slurm controller (connect failure)' >&2\nexit 1\n")
    (fake / "sbatch").chmod(0o755)
    proc = _slurm(subs, tmp_path / "R", env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert proc.returncode == 1 and "Unable to contact slurm controller" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    bad = _slurm(subs, tmp_path / "R", "--time", "soon", "--dry-run")
    assert bad.returncode == 2 and "--time must look like HH:MM:SS" in bad.stderr, bad.stderr


def _cluster_reason() -> str | None:
    if shutil.which("sinfo") is None:
        return "Slurm is not installed (make slurm: scripts/ensure-slurm.sh, as root on Debian)"
    try:
        proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "sinfo does not answer within 15 s"
    if proc.returncode != 0 or not re.search(r"^(idle|mix|alloc)", proc.stdout, re.M):
        return f"no Slurm node is up: sinfo says {(proc.stdout + proc.stderr).strip()[:200]!r} (make slurm)"
    return None


_NO_CLUSTER = _cluster_reason()
cluster = pytest.mark.skipif(_NO_CLUSTER is not None, reason=_NO_CLUSTER or "")


@pytest.fixture
def jobs():
    """Job ids the test submitted: cancelled at the end, so nothing is left in the queue."""
    ids: list[str] = []
    yield ids
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, timeout=30)


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setenv("DL_GRADER_CALL_TIMEOUT", "5")  # sbatch passes the environment on (--export=ALL)
    monkeypatch.setenv("DL_GRADER_SLURM_POLL", "1")


def _submitted(text: str) -> list[str]:
    match = re.search(r"Submitted array job (\d+) .*?collect job (\d+)", text.replace("\n", " "))
    assert match, text
    return [match[1], match[2]]


def _rows(out: Path) -> list[tuple[str, str, str]]:
    return sorted((r["student_id"], r["total"], r["max_total"]) for r in read_grades_csv(out / "grades.csv"))


SLURM_ARGS = ["--shards", "3", "--jobs", "1", "--mem", "3G", "--backend", "local", "--exercise", "conv",
              "--lang", "en"]


@cluster
def test_the_array_gives_the_grades_of_one_plain_batch(tmp_path, jobs, fast):
    subs = _class(tmp_path / "subs")
    proc = _slurm(subs, tmp_path / "R", *SLURM_ARGS)
    jobs += _submitted(proc.stdout)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "All 5 student(s)" in proc.stdout and "failed" not in proc.stdout, proc.stdout
    assert "Without complete results" not in proc.stdout, "OUT/.slurm/ is no student"
    for k in (1, 2, 3):
        assert (tmp_path / "R" / ".slurm" / f"shard-{k}.rc").read_text().strip() == "0"
        assert f"Grading shard {k}/3" in (tmp_path / "R" / ".slurm" / f"shard-{k}.log").read_text()
    plain = run_batch(subs, tmp_path / "R2", "--backend", "local", "--jobs", "1")
    assert plain.returncode == 0, plain.stdout[-2000:] + plain.stderr[-2000:]
    assert _rows(tmp_path / "R") == _rows(tmp_path / "R2")
    assert float(_rows(tmp_path / "R")[-1][1]) < float(_rows(tmp_path / "R")[-1][2])  # gus loses points
    again = _slurm(subs, tmp_path / "R", *SLURM_ARGS)
    assert again.returncode == 1 and "already holds results: add --resume" in again.stderr, again.stderr


@cluster
def test_a_cancelled_task_is_made_good_by_resume(tmp_path, jobs, fast):
    subs, out = _class(tmp_path / "subs"), tmp_path / "R"
    run = subprocess.Popen([*GRADE, "--course", str(REPO), "slurm", str(subs), "--out", str(out), *SLURM_ARGS],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert run.stdout is not None
        jobs += _submitted(run.stdout.readline())
        array_id = jobs[0]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # cancel task 2 as soon as it runs
            state = subprocess.run(["squeue", "-h", "-j", f"{array_id}_2", "-o", "%T"], capture_output=True,
                                   text=True, timeout=30).stdout.strip()
            if state == "RUNNING":
                break
            time.sleep(0.3)
        assert state == "RUNNING", state
        subprocess.run(["scancel", f"{array_id}_2"], check=True, timeout=30)
        stdout, stderr = run.communicate(timeout=240)
    finally:
        run.kill()
    assert run.returncode == 1 and "Traceback" not in stderr, stdout[-3000:] + stderr[-3000:]
    assert f"Shard 2/3 (task {array_id}_2) failed (no exit status" in stdout, stdout
    assert str(out / ".slurm" / "shard-2.log") in stdout.replace("\n", "")
    assert "ben, gus" in stdout and "--resume" in stdout, stdout
    assert not (out / "ben" / "results.json").exists() and not (out / "gus" / "results.json").exists()

    before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    assert sorted(before) == ["ada", "cleo", "dan"]
    again = _slurm(subs, out, *SLURM_ARGS, "--resume")
    jobs += _submitted(again.stdout)
    assert again.returncode == 0 and "All 5 student(s)" in again.stdout, again.stdout[-3000:] + again.stderr[-3000:]
    assert "0 submission(s) (2 already done)" in (out / ".slurm" / "shard-1.log").read_text().replace("\n", " ")
    assert sorted(p.parent.name for p in out.glob("*/results.json")) == STUDENTS
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != ".slurm") == STUDENTS, "nobody twice"
    assert all(before[s] == (out / s / "results.json").stat().st_mtime_ns for s in before), "nobody graded again"
    collect = subprocess.run([*GRADE, "--course", str(REPO), "collect", str(out), "--submissions", str(subs)],
                             capture_output=True, text=True, timeout=120)
    assert collect.returncode == 0, collect.stdout + collect.stderr


@cluster
def test_the_sample_submissions_in_three_shards_grade_as_one_batch(tmp_path, jobs, fast):
    """The issue's acceptance: `grade slurm examples/submissions --shards 3` = `grade batch examples/submissions`."""
    subs = REPO / "examples" / "submissions"
    args = ["--shards", "3", "--jobs", "1", "--mem", "4G", "--backend", "local", "--lang", "en"]
    proc = _slurm(subs, tmp_path / "R", *args)
    jobs += _submitted(proc.stdout)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    plain = subprocess.run([*GRADE, "--course", str(REPO), "batch", str(subs), "--out", str(tmp_path / "R2"),
                            "--backend", "local", "--jobs", "1", "--lang", "en"], capture_output=True, text=True,
                           timeout=300)  # every exercise the samples hold, as grade slurm grades them
    assert plain.returncode == 0, plain.stdout[-2000:] + plain.stderr[-2000:]
    assert _rows(tmp_path / "R") == _rows(tmp_path / "R2")
    assert [r[0] for r in _rows(tmp_path / "R")] == ["broken", "full_marks", "hostile", "partial"]
    assert _rows(tmp_path / "R")[1][1] == _rows(tmp_path / "R")[1][2]  # full_marks has them


def test_resume_waits_for_an_earlier_submission_still_running(tmp_path, monkeypatch):
    """A second submission while the first still runs would grade the same students twice at once."""
    from grader import slurm
    from grader.errors import GradeError

    out = tmp_path / "R"
    (out / slurm.LOGS).mkdir(parents=True)
    (out / slurm.LOGS / "jobs").write_text("41 42\n")
    options = slurm.SlurmOptions(submissions=tmp_path, out=out, course_root=REPO, shards=3)
    monkeypatch.setattr(slurm, "_queued", lambda array, collect: ({"41_2"}, True))
    with pytest.raises(GradeError, match="still queued or running .*scancel 41 42"):
        slurm.submit(options, resume=True)
    monkeypatch.setattr(slurm, "_sbatch", lambda args: "43" if "--dependency" not in args[0] else "44")
    monkeypatch.setattr(slurm, "_queued", lambda array, collect: (set(), False))  # ended: go on
    assert slurm.submit(options, resume=True)[:2] == ("43", "44")
    assert (out / slurm.LOGS / "jobs").read_text().split() == ["43", "44"]
