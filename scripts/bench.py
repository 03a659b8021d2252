#!/usr/bin/env python3
"""Benchmark the grader on this machine; print a markdown table and write it to bench-results.md.

Measures (each the median of ``--repeat`` runs, wall-clock, as subprocesses):

a. ``python -c "import torch"`` with the venv's Python (the floor of any grading run),
b. ``grade check conv`` on the untouched stub (public checks),
c. ``grade check conv --submission solutions --hidden``,
   and the ratios b/a and c/a (goal: at most 1.5x),
c2. ``grade check callbacks`` (stub; start-up of an exercise with scenarios) and with
    ``--submission solutions --hidden`` (fastai imported in the trusted process for the reference),
e. per exercise, ``grade check NAME --submission solutions --hidden --json`` once: wall time and
   the checks' own compute (skipped with ``--skip-exercises``),
d. ``grade batch`` over ``--students`` copies of ``solutions/`` (default: the full course, all
   exercises; ``--batch-exercises`` names fewer) (skipped with ``--skip-batch`` or when ``grade
   batch --help`` fails): wall time, seconds per submission, submissions per minute, the checks'
   own compute (sum of ``tests[*].extra_data.duration`` over all results.json) split into the
   student side (``student_seconds``: waiting for the worker) and the trusted side (the reference
   and the comparison), the overhead ``wall / (compute / jobs) - 1``, and the peak memory of a pool
   process, a fork server and a worker (sampled from ``/proc``), and the machine's CPU seconds busy,
   idle and stolen during the batch (``/proc/stat``: steadier than the wall time on a shared VM). ``--compare-fresh-draws`` runs it
   once more with ``grade batch --fresh-draws`` (the reference once per student, as before shared
   draws) to show what the shared draws save.

Usage: .venv/bin/python scripts/bench.py [--repeat 3] [--students 20] [--jobs 2] [--backend auto] [--skip-batch]
       [--batch-only] [--skip-exercises] [--batch-exercises all|conv,padding_stride] [--compare-fresh-draws]

This is a benchmark, not a test: it only fails when a command cannot run at all.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_RATIO = 1.5


def venv_python() -> str:
    candidate = REPO / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def grade_command() -> list[str]:
    candidate = REPO / ".venv" / "bin" / "grade"
    return [str(candidate)] if candidate.exists() else [venv_python(), "-m", "grader.cli"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("COLUMNS", "200")  # rich must not wrap the line that names the backend
    env.pop("GRADE_COURSE", None)  # grade the course this script belongs to (found from cwd)
    return env


def run_once(cmd: list[str], timeout: float, ok_codes: tuple[int, ...]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``cmd`` in the repository root; return (wall seconds, completed process)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"bench: timed out after {timeout:g} s: {' '.join(cmd)}") from exc
    wall = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise SystemExit(f"bench: exit status {proc.returncode} (expected {ok_codes}) from {' '.join(cmd)}\n{tail}")
    return wall, proc


def median_of(cmd: list[str], repeat: int, timeout: float, ok_codes: tuple[int, ...]) -> tuple[float, list[float]]:
    runs = [run_once(cmd, timeout, ok_codes)[0] for _ in range(repeat)]
    return statistics.median(runs), runs


def torch_version(timeout: float) -> str:
    try:
        proc = subprocess.run([venv_python(), "-c", "import torch; print(torch.__version__)"], cwd=REPO,
                              capture_output=True, text=True, timeout=timeout)
        return proc.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def batch_available(timeout: float) -> bool:
    try:
        return subprocess.run([*grade_command(), "batch", "--help"], cwd=REPO, env=_env(), capture_output=True,
                              timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def make_submissions(folder: Path, students: int, names: list[str]) -> int:
    """``students`` copies of the solution packages ``names`` (subfolders of solutions/)."""
    packages = sorted(p for p in (REPO / "solutions").iterdir() if (p / "__init__.py").is_file() and p.name in names)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for i in range(students):
        student = folder / f"s{i:02d}"
        student.mkdir(parents=True)
        for package in packages:
            shutil.copytree(package, student / package.name, ignore=ignore)
    return len(packages)


class MemorySampler:
    """Peak memory of the batch's processes, read from ``/proc`` every ``interval`` seconds.

    Classified by command line: the grader's pool processes (``multiprocessing.spawn``), the warm
    fork servers (``grader._zygote`` whose parent is not one) and the workers they fork (its
    children; Docker's containers share this kernel, so their processes are seen here too). For
    each class the largest peak (``VmHWM``) of one process; and the largest sum of all of them at
    one moment. RSS counts pages a fork shares with its server in both, so sums overstate.
    """

    def __init__(self, interval: float = 0.5) -> None:
        import threading

        self.interval = interval
        self.peaks = {"grader (pool process)": 0, "fork server": 0, "worker": 0}
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _read(pid: str) -> tuple[str, int, int, int]:
        base = Path("/proc") / pid
        cmd = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        fields = dict(line.split(":", 1) for line in (base / "status").read_text().splitlines() if ":" in line)
        kb = lambda name: int(fields.get(name, "0 kB").split()[0])  # noqa: E731
        return cmd, int(fields.get("PPid", "0").strip()), kb("VmHWM"), kb("VmRSS")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            seen: dict[int, tuple[str, int, int, int]] = {}
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        seen[int(pid)] = self._read(pid)
                    except (OSError, ValueError):
                        continue
            total = 0
            for pid, (cmd, ppid, hwm, rss) in seen.items():
                if "multiprocessing.spawn" in cmd and "grade" in seen.get(ppid, ("",))[0]:
                    kind = "grader (pool process)"
                elif "grader._zygote" in cmd:
                    kind = "worker" if "grader._zygote" in seen.get(ppid, ("",))[0] else "fork server"
                else:
                    continue
                self.peaks[kind] = max(self.peaks[kind], hwm)
                total += rss
            self.total = max(self.total, total)


class CpuAccount:
    """The whole machine's CPU time during a block, from the first line of ``/proc/stat``.

    Wall time on a shared VM jumps by several seconds from run to run; the CPU seconds the machine
    spent busy (every process: the grader, its pool, the containers, dockerd) move far less, so a
    change that saves work shows here even when the wall time hides it. ``idle`` is what the cores
    left unused (start-up waits, the last students' tail, the single-threaded end); ``steal`` is time
    the hypervisor gave to other guests (noise: it is why two runs differ).
    """

    FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")

    @classmethod
    def _read(cls) -> dict[str, float]:
        try:
            values = Path("/proc/stat").read_text().splitlines()[0].split()[1:1 + len(cls.FIELDS)]
        except (OSError, IndexError):
            return {}
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        return {name: int(v) / tick for name, v in zip(cls.FIELDS, values)}

    def __enter__(self) -> "CpuAccount":
        self._start = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._read()
        d = {k: end[k] - self._start.get(k, 0.0) for k in end}
        self.idle = d.get("idle", 0.0) + d.get("iowait", 0.0)
        self.steal = d.get("steal", 0.0)
        self.busy = sum(d.values()) - self.idle - self.steal


def bench_batch(students: int, jobs: int, backend: str, timeout: float, names: list[str],
                extra: t.Sequence[str] = ()) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    try:
        subs, out = tmp / "submissions", tmp / "out"
        subs.mkdir()
        n_packages = make_submissions(subs, students, names)
        cmd = [*grade_command(), "batch", str(subs), "--out", str(out), "--jobs", str(jobs), "--backend", backend,
               *extra]
        # exit 1 means some student "errored"; still a measurement, reported below
        with MemorySampler() as memory, CpuAccount() as cpu:
            wall, proc = run_once(cmd, timeout, ok_codes=(0, 1))
        text = proc.stdout + proc.stderr
        match = re.search(r"backend:\s*([\w-]+)", text)
        used = match.group(1) if match else (backend if backend != "auto" else "auto (not reported)")
        compute, setup, student, reference, graded, checks = 0.0, 0.0, 0.0, 0.0, 0, 0
        for results in sorted(out.glob("*/results.json")):
            data = json.loads(results.read_text(encoding="utf-8"))
            graded += 1
            for test in data.get("tests", []):
                extra_data = test.get("extra_data") or {}
                duration = extra_data.get("duration")
                if isinstance(duration, (int, float)):
                    compute += float(duration)
                    setup += float(extra_data.get("setup_seconds") or 0.0)
                    student += float(extra_data.get("student_seconds") or 0.0)
                    reference += float(extra_data.get("reference_seconds") or 0.0)
                    checks += 1
        return {"wall": wall, "compute": compute, "setup": setup, "student": student, "reference": reference, "graded": graded, "checks": checks,
                "backend": used, "packages": n_packages, "returncode": proc.returncode,
                "memory": dict(memory.peaks), "memory_total": memory.total,
                "cpu_busy": getattr(cpu, "busy", 0.0), "cpu_idle": getattr(cpu, "idle", 0.0),
                "cpu_steal": getattr(cpu, "steal", 0.0)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def batch_lines(r: dict[str, t.Any], students: int, jobs: int, title: str) -> list[str]:
    wall, compute, student, reference = float(r["wall"]), float(r["compute"]), float(r["student"]), float(r["reference"])
    setup = float(r.get("setup", 0.0))
    floor = (compute + setup) / jobs
    overhead = f"{(wall / floor - 1) * 100:.0f} %" if floor > 0 else "n/a (no check durations found)"
    call_floor = compute / jobs  # before 2026-12-03 the floor left the checks' setup out
    call_overhead = f"{(wall / call_floor - 1) * 100:.0f} %" if call_floor > 0 else "n/a"
    lines = [
        "",
        f"{title}: `grade batch` of {students} copies of solutions/ ({r['packages']} exercise package(s) each), "
        f"`--jobs {jobs}`, backend used: **{r['backend']}**, {r['graded']} results.json, {r['checks']} checks"
        + (f", exit status {r['returncode']}" if r["returncode"] else "") + ".",
        "",
        "| Batch | Value |",
        "|---|---:|",
        f"| wall time (s) | {wall:.2f} |",
        f"| seconds per submission | {wall / students:.2f} |",
        f"| submissions per minute | {60.0 * students / wall:.1f} |",
        f"| checks' own compute: their calls and their setup (fixtures), summed (s) | {compute + setup:.2f} |",
        f"| of which the setup: fixtures, the worker importing the packages (s per submission) | {setup / students:.2f} |",
        f"| of which student side, waiting for the worker (s per submission) | {student / students:.2f} |",
        f"| of which the trusted reference, its functions and scenarios (s per submission) | {reference / students:.2f} |",
        f"| of which the rest of the trusted side: comparisons, evaluating returned weights, pictures (s per submission) | "
        f"{(compute - student - reference) / students:.2f} |",
        f"| floor = compute / jobs (s) | {floor:.2f} |",
        f"| overhead = wall / floor - 1 | {overhead} |",
        f"| overhead with the calls alone as compute (the measure before 2026-12-03) | {call_overhead} |",
    ]
    if r.get("cpu_busy"):
        lines += [
            f"| machine CPU busy during the batch, all processes (s, `/proc/stat`) | {r['cpu_busy']:.1f} |",
            f"| of that, per submission (s) | {r['cpu_busy'] / students:.2f} |",
            f"| CPU left idle during the batch (s; start-up, the tail, the end) | {r['cpu_idle']:.1f} |",
            f"| CPU stolen by the hypervisor (s; noise) | {r['cpu_steal']:.1f} |",
        ]
    for kind, kb in r["memory"].items():
        lines.append(f"| peak memory of one {kind} (MB, RSS) | {kb / 1024:.0f} |")
    lines.append(f"| peak memory of all of them at once (MB, sum of RSS: shared pages counted twice) | "
                 f"{r['memory_total'] / 1024:.0f} |")
    return lines


def course_exercises() -> list[str]:
    return sorted(p.name for p in (REPO / "checks").iterdir() if (p / "exercise.toml").is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median is reported)")
    parser.add_argument("--students", type=int, default=20, help="submissions in the batch benchmark")
    parser.add_argument("--jobs", type=int, default=2, help="grade batch --jobs")
    parser.add_argument("--backend", choices=["docker", "local", "auto"], default="auto", help="grade batch --backend")
    parser.add_argument("--skip-batch", action="store_true", help="skip the grade batch benchmark")
    parser.add_argument("--batch-only", action="store_true", help="only the grade batch benchmark (d)")
    parser.add_argument("--skip-exercises", action="store_true", help="skip the per-exercise timings")
    parser.add_argument("--batch-exercises", default="all",
                        help="exercises in each batch submission: comma-separated, or all (the full course)")
    parser.add_argument("--compare-fresh-draws", action="store_true",
                        help="also run the batch with --fresh-draws (the reference once per student) and report both")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per command (batch: at least this)")
    parser.add_argument("--output", type=Path, default=REPO / "bench-results.md", help="markdown file to write")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.students < 1 or args.jobs < 1:
        parser.error("--repeat, --students and --jobs must be at least 1")

    python, grade = venv_python(), grade_command()
    lines = [
        "# Grader benchmark",
        "",
        f"{_dt.datetime.now().isoformat(timespec='seconds')} · {platform.node()} · {os.cpu_count()} CPU(s) · "
        f"Python {platform.python_version()} · torch {torch_version(args.timeout)} · median of {args.repeat} run(s)",
    ]
    print(f"bench: median of {args.repeat} run(s) each, in {REPO}", file=sys.stderr)
    if not args.batch_only:
        lines += check_lines(args, python, grade)

    if args.skip_batch:
        lines += ["", "Batch grading (d): skipped (--skip-batch)."]
    elif not batch_available(args.timeout):
        lines += ["", "Batch grading (d): `grade batch --help` did not exit 0, so `grade batch` is not available; "
                      "skipped."]
    else:
        names = course_exercises() if args.batch_exercises == "all" else args.batch_exercises.split(",")
        what = "the full course" if args.batch_exercises == "all" else ", ".join(names)
        runs = [("Batch grading (d)", ())]
        if args.compare_fresh_draws:
            runs.append(("Batch grading with --fresh-draws (d')", ("--fresh-draws",)))
        for title, extra in runs:
            print(f"bench: {title}: {what}, {args.students} students, --jobs {args.jobs} --backend {args.backend} …",
                  file=sys.stderr)
            r = bench_batch(args.students, args.jobs, args.backend, max(args.timeout, 60.0 * args.students), names,
                            extra)
            lines += batch_lines(r, args.students, args.jobs, title)

    table = "\n".join(lines) + "\n"
    print(table)
    args.output.write_text(table, encoding="utf-8")
    print(f"bench: written to {args.output}", file=sys.stderr)
    return 0


def check_lines(args: argparse.Namespace, python: str, grade: list[str]) -> list[str]:
    """Measurements a-e: ``grade check`` against ``import torch``, and each exercise once."""
    print("bench: a. import torch …", file=sys.stderr)
    t_import, runs_import = median_of([python, "-c", "import torch"], args.repeat, args.timeout, (0,))
    print("bench: b. grade check conv (stub, public) …", file=sys.stderr)
    t_stub, runs_stub = median_of([*grade, "check", "conv"], args.repeat, args.timeout, (0, 1))
    print("bench: c. grade check conv --submission solutions --hidden …", file=sys.stderr)
    t_full, runs_full = median_of([*grade, "check", "conv", "--submission", "solutions", "--hidden"],
                                  args.repeat, args.timeout, (0,))
    print("bench: c2. grade check callbacks (stub, then solution --hidden) …", file=sys.stderr)
    t_cb_stub, runs_cb_stub = median_of([*grade, "check", "callbacks"], args.repeat, args.timeout, (0, 1))
    t_cb_full, runs_cb_full = median_of([*grade, "check", "callbacks", "--submission", "solutions", "--hidden"],
                                        args.repeat, args.timeout, (0,))

    def runs(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    def ratio(value: float) -> str:
        r = round(value / t_import, 2)  # judged as printed: 1.50x is within a 1.5x goal
        return f"{r:.2f}x ({'within' if r <= GOAL_RATIO else 'above'} the {GOAL_RATIO:g}x goal)"

    lines = [
        "",
        "| Measurement | Median (s) | Runs (s) | Ratio to `import torch` |",
        "|---|---:|---|---|",
        f"| a. `python -c \"import torch\"` | {t_import:.2f} | {runs(runs_import)} | 1.00x |",
        f"| b. `grade check conv` (stub, public checks) | {t_stub:.2f} | {runs(runs_stub)} | {ratio(t_stub)} |",
        f"| c. `grade check conv --submission solutions --hidden` | {t_full:.2f} | {runs(runs_full)} | "
        f"{ratio(t_full)} |",
        f"| c2. `grade check callbacks` (stub, public checks: start-up with scenarios) | {t_cb_stub:.2f} | "
        f"{runs(runs_cb_stub)} | {ratio(t_cb_stub)} |",
        f"| c3. `grade check callbacks --submission solutions --hidden` (fastai reference) | {t_cb_full:.2f} | "
        f"{runs(runs_cb_full)} | {t_cb_full / t_import:.2f}x |",
    ]
    if not args.skip_exercises:
        lines += ["", "| Exercise (solution, public + hidden checks, one run) | wall (s) | checks | checks' compute (s) |",
                  "|---|---:|---:|---:|"]
        for name in course_exercises():
            print(f"bench: e. grade check {name} --hidden …", file=sys.stderr)
            wall, proc = run_once([*grade, "check", name, "--submission", "solutions", "--hidden", "--json"],
                                  args.timeout, (0, 1))
            try:
                tests = json.loads(proc.stdout).get("tests", [])
            except json.JSONDecodeError:
                tests = []
            compute = sum(float((t.get("extra_data") or {}).get("duration", 0.0)) for t in tests)
            flag = "" if proc.returncode == 0 else " (not full marks!)"
            lines.append(f"| `{name}`{flag} | {wall:.2f} | {len(tests)} | {compute:.2f} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
