"""`grade batch --shard K/N` and `grade collect`: a class graded by N jobs into one shared folder.

What a cluster relies on: the split is decided by the student id alone (stable, a partition),
shards write only their students' files, `grade collect` gives the same grades as one plain batch
and names the students a missing shard left out, and --resume grades nobody twice.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from grader.batch import in_shard, parse_shard
from grader.outputs import remove_partial_writes
from grader.reports.exports import read_grades_csv
from test_batch import GRADE, _conv_package, _solution_source, run_batch

#: ada, dan -> shard 1 of 3; ben, gus -> 2; cleo -> 3 (pinned in test_shard_of_a_student_never_changes).
STUDENTS = ["ada", "ben", "cleo", "dan", "gus"]
CLASS_FILES = ["report.html", "similarity.html", "grades.csv", "grades-moodle.csv", "junit.xml"]


def test_shard_of_a_student_never_changes():
    """The hash is part of the contract: changing it would move students of a class being graded."""
    assert [k for s in STUDENTS for k in (1, 2, 3) if in_shard(s, (k, 3))] == [1, 2, 3, 1, 2]


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_partition_the_students(n):
    ids = [f"student{i:03d}" for i in range(300)] + ["ä-ö", "x@y.z", "a b"]
    shards = {k: {s for s in ids if in_shard(s, (k, n))} for k in range(1, n + 1)}
    assert sum(len(v) for v in shards.values()) == len(ids) and set().union(*shards.values()) == set(ids)
    if n > 1:
        assert all(len(v) > len(ids) / n / 2 for v in shards.values()), "a fair split"
    more = ids + [f"late{i}" for i in range(50)]  # adding submissions moves nobody
    assert all({s for s in more if in_shard(s, (k, n))} >= shards[k] for k in shards)


def test_parse_shard():
    assert parse_shard("2/3") == (2, 3) and parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ["0/3", "4/3", "1/0", "3", "a/b", "-1/3", "1/3/5", ""]:
        with pytest.raises(ValueError, match="K/N with 1 <= K <= N"):
            parse_shard(bad)


def test_a_shard_cleans_only_its_own_students_half_written_files(tmp_path):
    for name in ["mine", "theirs"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / ".results.json.abc").write_text("{")
    (tmp_path / ".grades.csv.abc").write_text("")
    assert remove_partial_writes(tmp_path, ["mine", "absent"]) == 1
    assert (tmp_path / "theirs" / ".results.json.abc").exists() and (tmp_path / ".grades.csv.abc").exists()


def test_bad_shard_value_is_a_clear_usage_error(tmp_path):
    for bad in ["0/3", "abc"]:
        proc = subprocess.run([*GRADE, "--course", str(REPO), "batch", str(tmp_path), "--out", str(tmp_path / "o"),
                               "--shard", bad], capture_output=True, text=True)
        assert proc.returncode == 2 and "--shard must look like K/N with 1 <= K <= N" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    proc = subprocess.run([*GRADE, "--course", str(REPO), "batch", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--shard", "1/2", "--nbgrader-db", str(tmp_path / "g.db")], capture_output=True, text=True)
    assert proc.returncode == 2 and "--nbgrader-db cannot be used with --shard" in proc.stderr, proc.stderr


def _collect(out: Path, subs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADE, "--course", str(REPO), "collect", str(out), "--submissions", str(subs)],
                          capture_output=True, text=True, timeout=300)


def _rows(out: Path) -> list[tuple[str, str, str]]:
    return sorted((r["student_id"], r["total"], r["max_total"]) for r in read_grades_csv(out / "grades.csv"))


def test_shards_then_collect_equal_one_batch_and_resume_grades_nobody_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_GRADER_CALL_TIMEOUT", "5")
    subs = tmp_path / "submissions"
    for name in STUDENTS:
        source = _solution_source()
        if name == "gus":  # a broken conv: the kernel is flipped
            source += "\n" + (REPO / "reference" / "conv" / "mutants" / "flipped_kernel.py").read_text()
        _conv_package(subs / name / "conv", source)
    plain, shared = tmp_path / "plain", tmp_path / "shared"
    local = ["--backend", "local", "--jobs", "1"]

    proc = run_batch(subs, plain, *local)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    want = _rows(plain)
    assert [r[0] for r in want] == STUDENTS
    assert float(want[-1][1]) < float(want[-1][2]) == float(want[0][1]) > 0, want  # gus loses points, ada not

    # shards 1 and 3 at the same time into one folder; shard 2 is "still queued"
    cmd = [*GRADE, "--course", str(REPO), "batch", str(subs), "--out", str(shared), "--exercise", "conv",
           "--lang", "en", *local]
    running = [subprocess.Popen([*cmd, "--shard", k], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for k in ["1/3", "3/3"]]
    for p in running:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0 and "Traceback" not in stderr, stdout[-2000:] + stderr[-2000:]
        assert "grade collect" in stdout
    assert sorted(p.parent.name for p in shared.glob("*/results.json")) == ["ada", "cleo", "dan"]
    assert not any((shared / f).exists() for f in CLASS_FILES), "a shard writes no class files"

    missing = _collect(shared, subs)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "2 of 5 student(s)" in missing.stdout and "ben, gus" in missing.stdout, missing.stdout
    assert sorted(r[0] for r in _rows(shared)) == ["ada", "cleo", "dan"]

    proc = run_batch(subs, shared, *local, "--shard", "2/3")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Grading shard 2/3 · 2 submission(s) (0 already done)" in proc.stdout.replace("\n", " ")
    done = _collect(shared, subs)
    assert done.returncode == 0 and "All 5 student(s)" in done.stdout, done.stdout + done.stderr
    assert _rows(shared) == want
    assert all((shared / f).is_file() for f in CLASS_FILES)

    before = {p.parent.name: p.stat().st_mtime_ns for p in shared.glob("*/results.json")}
    again = run_batch(subs, shared, *local, "--shard", "2/3", "--resume")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "0 submission(s) (2 already done)" in again.stdout.replace("\n", " ")
    assert {p.parent.name: p.stat().st_mtime_ns for p in shared.glob("*/results.json")} == before
