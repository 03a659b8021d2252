"""``grade slurm``: grade a class on a Slurm cluster, one ``grade batch --shard K/N`` per array task.

Two sbatch scripts in ``DIR/.slurm/``: ``shards.sbatch``, a job array ``--array=1-N`` whose task K
runs ``grade batch SUBMISSIONS --out DIR --shard K/N --resume`` (so a re-run task skips the
students it already graded), and ``collect.sbatch``, submitted with ``--dependency=afterany:<array>``,
which runs ``grade collect DIR --submissions SUBMISSIONS`` once every task has ended, however it
ended. Each script writes its exit status to ``DIR/.slurm/<name>.rc`` as its last act, so waiting
needs only ``squeue`` (no accounting database): a task without its ``.rc`` file was cancelled,
killed or timed out. ``--resume`` submits both again (the whole array: complete students are
skipped by each task). DIR and SUBMISSIONS must be on a folder every node sees.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from ._limits import job_memory_gb
from .errors import GradeError

__all__ = ["SlurmOptions", "job_scripts", "submit", "wait", "default_mem"]

#: DIR/.slurm/: scripts, logs and exit statuses. Hidden, so grade report/collect never take it for a student
#: without results (and no student id starts with a dot: batch._safe_id).
LOGS = ".slurm"
#: Seconds between two looks at the queue while waiting.
POLL_S = float(os.environ.get("DL_GRADER_SLURM_POLL", "3"))


@dataclass(frozen=True)
class SlurmOptions:
    submissions: Path
    out: Path
    course_root: Path
    shards: int = 4
    jobs: int = 1
    device: str = "cpu"
    backend: str = "auto"
    partition: str | None = None
    time: str | None = None
    mem: str | None = None
    exercises: tuple[str, ...] = ()
    lang: str | None = None


def default_mem(jobs: int) -> str:
    return f"{job_memory_gb(jobs)}G"


def _grade_command() -> list[str]:
    """This installation's ``grade``, by absolute path (the tasks run on other nodes, in other folders)."""
    exe = Path(os.path.abspath(sys.executable))  # not resolved: a venv's python is a symlink out of it
    grade = exe.parent / "grade"
    return [str(grade)] if grade.is_file() else [str(exe), "-m", "grader.cli"]


def _q(args: t.Iterable[str | Path]) -> str:
    return " ".join(shlex.quote(str(a)) for a in args)


def _header(name: str, output: Path, o: SlurmOptions, cpus: int, mem: str, extra: t.Sequence[str] = ()) -> list[str]:
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}", *extra, f"#SBATCH --cpus-per-task={cpus}",
             f"#SBATCH --mem={mem}", f"#SBATCH --output={shlex.quote(str(output))}"]
    if o.partition:
        lines.append(f"#SBATCH --partition={o.partition}")
    if o.time:
        lines.append(f"#SBATCH --time={o.time}")
    return lines


def job_scripts(o: SlurmOptions) -> tuple[str, str]:
    """The array job's script and the collect job's script (paths made absolute)."""
    subs, out, course = (p.absolute() for p in (o.submissions, o.out, o.course_root))
    logs = out / LOGS
    grade = [*_grade_command(), "--course", str(course)]
    extra = [f"--exercise={e}" for e in o.exercises] + ([f"--lang={o.lang}"] if o.lang else [])
    array = [f"#SBATCH --array=1-{o.shards}"] + (["#SBATCH --gres=gpu:1"] if o.device == "cuda" else [])
    batch = _q([*grade, "batch", subs, "--out", out]) + f" --shard $SLURM_ARRAY_TASK_ID/{o.shards} --resume " + \
        _q(["--jobs", str(o.jobs), "--backend", o.backend, *extra] + (["--device", "cuda"] if o.device == "cuda" else []))
    shards = "\n".join([
        *_header("grade-shards", logs / "shard-%a.log", o, o.jobs, o.mem or default_mem(o.jobs), array),
        f"# Written by `grade slurm`: shard $SLURM_ARRAY_TASK_ID of {o.shards} of {subs}.",
        "# Each task resumes: students with a complete results.json in the --out folder are skipped.",
        f"rc_file={shlex.quote(str(logs))}/shard-$SLURM_ARRAY_TASK_ID.rc",
        'rm -f "$rc_file"',
        batch,
        "rc=$?",
        'echo "$rc" > "$rc_file"',
        'exit "$rc"', ""])
    collect = "\n".join([
        *_header("grade-collect", logs / "collect.log", o, 1, "4G"),
        f"# Written by `grade slurm`: the class files once every shard of {subs} has ended.",
        f"rc_file={shlex.quote(str(logs / 'collect.rc'))}",
        'rm -f "$rc_file"',
        _q([*grade, "collect", out, "--submissions", subs] + ([f"--lang={o.lang}"] if o.lang else [])),
        "rc=$?",
        'echo "$rc" > "$rc_file"',
        'exit "$rc"', ""])
    return shards, collect


def _sbatch(args: list[str]) -> str:
    if shutil.which("sbatch") is None:
        raise GradeError("sbatch is not installed here: run grade slurm on the cluster's login node (where "
                         "sbatch, squeue work), or try it out with --dry-run. For a one-node cluster on this "
                         "machine (as root, Debian): bash scripts/ensure-slurm.sh")
    try:
        proc = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise GradeError("sbatch did not answer within 120 s: the Slurm controller is not reachable.") from None
    except OSError as exc:
        raise GradeError(f"sbatch could not be started: {exc}") from None
    if proc.returncode != 0:
        why = proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}"
        raise GradeError(f"sbatch refused the job: {why}")
    job_id = proc.stdout.strip().split(";")[0]  # "ID" or "ID;cluster"
    if not job_id.isdigit():
        raise GradeError(f"sbatch answered {proc.stdout.strip()!r}, not a job id.")
    return job_id


def submit(o: SlurmOptions, resume: bool = False) -> tuple[str, str, Path]:
    """Write both scripts to DIR/.slurm/ and submit them; returns (array job id, collect job id, folder).
    Without ``resume``, a DIR that already holds results is refused (it would be continued silently)."""
    if not resume and o.out.is_dir() and any(o.out.glob("*/results.json")):
        raise GradeError(f"{o.out} already holds results: add --resume to grade only the students still missing "
                         "(the whole array is submitted again; each task skips its complete students), or "
                         "choose another --out.")
    shards, collect = job_scripts(o)
    logs = o.out.absolute() / LOGS
    _refuse_while_running(logs)
    logs.mkdir(parents=True, exist_ok=True)
    for old in [*logs.glob("shard-*.rc"), logs / "collect.rc"]:  # from an earlier submission
        old.unlink(missing_ok=True)
    (logs / "shards.sbatch").write_text(shards)
    (logs / "collect.sbatch").write_text(collect)
    array_id = _sbatch([str(logs / "shards.sbatch")])
    try:
        collect_id = _sbatch([f"--dependency=afterany:{array_id}", str(logs / "collect.sbatch")])
    except GradeError as exc:
        raise GradeError(f"{exc.message} (the array job {array_id} was submitted; scancel {array_id} "
                         "or run grade collect yourself when it is done)") from None
    (logs / "jobs").write_text(f"{array_id} {collect_id}\n")
    return array_id, collect_id, logs


def _refuse_while_running(logs: Path) -> None:
    """An earlier submission for this DIR that is still queued or running would grade the same
    students at the same time as the new one: refuse, and say how to go on."""
    try:
        array_id, collect_id = (logs / "jobs").read_text().split()[:2]
    except (OSError, ValueError):
        return  # nothing submitted from here before
    try:
        tasks, collecting = _queued(array_id, collect_id)
    except (ConnectionError, OSError, subprocess.TimeoutExpired) as exc:
        raise GradeError(f"Cannot tell whether the jobs submitted earlier for this folder ({array_id}, {collect_id}) "
                         f"still run: squeue failed ({exc}).") from None
    if tasks or collecting:
        raise GradeError(f"The jobs submitted earlier for this folder are still queued or running (array {array_id}, "
                         f"collect {collect_id}): a second submission would grade the same students at the same "
                         f"time. Wait for them (squeue -j {array_id},{collect_id}) or cancel them "
                         f"(scancel {array_id} {collect_id}), then run this again.")


def _queued(array_id: str, collect_id: str) -> tuple[set[str], bool]:
    """The array's task ids still in the queue (pending, running, completing), and whether collect is."""
    try:
        proc = subprocess.run(["squeue", "-h", "-r", "-j", f"{array_id},{collect_id}", "-o", "%F|%K|%A"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConnectionError(str(exc)) from None
    if proc.returncode != 0:
        if "Invalid job id" in proc.stderr:  # both ended long ago and were purged
            return set(), False
        raise ConnectionError(proc.stderr.strip() or f"squeue: exit status {proc.returncode}")
    tasks, collect = set(), False
    for line in proc.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 3:
            continue
        if parts[0] == array_id and parts[1] not in ("", "N/A"):
            tasks.update(_expand(parts[1]))
        elif collect_id in (parts[0], parts[2]):
            collect = True
    return tasks, collect


def _expand(ids: str) -> set[str]:
    """``"2"``, or a pending record's ``"[2-3,5]"`` -> task ids."""
    out: set[str] = set()
    for part in ids.strip("[]").split("%")[0].split(","):
        if re.fullmatch(r"\d+-\d+", part):
            a, b = map(int, part.split("-"))
            out.update(str(i) for i in range(a, b + 1))
        elif part.isdigit():
            out.add(part)
    return out


def _rc(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def wait(array_id: str, collect_id: str, shards: int, logs: Path, console: t.Any) -> int:
    """Wait with a progress bar until the collect job has ended; report; return collect's exit status."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    failures = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        bar = progress.add_task(f"Shards done (job {array_id})", total=shards)
        while True:
            try:
                tasks, collecting = _queued(array_id, collect_id)
                failures = 0
            except ConnectionError as exc:
                failures += 1
                if failures >= 5:
                    raise GradeError(f"The cluster stopped answering (squeue: {exc}). The jobs may still run: "
                                     f"squeue -j {array_id},{collect_id}; logs in {logs}.") from None
                time.sleep(POLL_S)
                continue
            progress.update(bar, completed=shards - len(tasks))
            if not tasks and not collecting:
                break
            if not tasks:
                progress.update(bar, description=f"Shards done; collecting (job {collect_id})")
            time.sleep(POLL_S)
    failed = [(k, _rc(logs / f"shard-{k}.rc")) for k in range(1, shards + 1)]
    failed = [(k, rc) for k, rc in failed if rc != 0]
    for k, rc in failed:
        why = f"exit status {rc}" if rc is not None else "no exit status: cancelled, killed or out of time"
        console.print(f"Shard {k}/{shards} (task {array_id}_{k}) failed ({why}): {logs / f'shard-{k}.log'}",
                      markup=False, highlight=False, soft_wrap=True)
    rc = _rc(logs / "collect.rc")
    tail = _tail(logs / "collect.log")
    if tail:
        console.print(tail, markup=False, highlight=False, soft_wrap=True)
    if rc is None:
        console.print(f"The collect job {collect_id} ended without an exit status (cancelled or killed): "
                      f"{logs / 'collect.log'}", markup=False, highlight=False, soft_wrap=True)
        return 1
    if rc != 0:
        console.print("Not every student has complete results: run the same grade slurm command again with "
                      "--resume (each shard skips the students it already graded).", markup=False, highlight=False, soft_wrap=True)
    return rc


def _tail(path: Path, lines: int = 6) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").rstrip().splitlines()[-lines:])
    except OSError:
        return ""
