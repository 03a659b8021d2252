"""``grade batch``: grade a folder of submissions in parallel, each in its own sandbox.

The pipeline for one student, in order (each step needs the one before):

1. ``stage_submission``  copy or unpack safely; notebooks become packages     (intake.py)
2. ``Sandbox``           one worker (container) for all of the student's exercises
3. ``run_checks``        per exercise, the trusted checks against that worker  (runner.py)
4. ``write_student``     feedback.md, then results.json last (marks completion) (outputs.py)

Students are graded by a pool of trusted grader processes (``--jobs``, default: one per core);
each imports torch once and then grades student after student. With the local backend each pool
process also keeps a warm fork server (``forkserver.py``), so a student's worker costs a fork,
not a torch import; the server runs in a bubblewrap sandbox of its own that sees only the job
slot's stage folder (``_isolation.py``), as the Docker backend's runs in a container. ``grades.csv``
is rewritten from the results.json files after every student and the class files (report,
similarity, exports) once at the end, so a batch killed at any moment resumes (``--resume``)
without losing or duplicating anything. ``--shard K/N`` grades only the students that
:func:`in_shard` puts in shard K, so N jobs (a cluster's array job) share one class in one DIR;
shards write no class files, ``grade collect DIR`` writes them once every shard is done.

Every pool process gets the batch's secret for shared draws (:mod:`grader.draws`): each check
draws the same seeds for every student of the batch, so each of the reference's answers is
computed once per pool process and every student is compared with it (``--fresh-draws`` draws
per student instead).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import re
import secrets
import shutil
import tempfile
import time
import traceback
import typing as t
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ._limits import Limits
from .catalog import Course
from .errors import GradeError
from .outputs import read_complete, remove_partial_writes, write_student
from .reports import write_class_outputs
from .reports.exports import write_grades_csv

__all__ = ["BatchOptions", "run_batch", "discover", "parse_shard", "in_shard"]


@dataclass(frozen=True)
class BatchOptions:
    out: Path
    exercises: tuple[str, ...] = ()
    backend: str = "auto"
    jobs: int = 0
    resume: bool = False
    image: str | None = None
    device: str = "cpu"
    fresh_workers: bool = False
    #: Language of feedback, report and CSV headers ("" = the course's, :attr:`Course.language`).
    lang: str = ""
    #: Draw each student's check inputs anew instead of once per batch (:mod:`grader.draws`).
    fresh_draws: bool = False
    #: ``(K, N)``: grade only shard K of N (:func:`in_shard`) and leave the class files to ``grade collect``.
    shard: tuple[int, int] | None = None


@dataclass(frozen=True)
class Entry:
    path: Path
    student_id: str


def _safe_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name).strip(".") or "student"


def discover(submissions: Path) -> list[Entry]:
    """One entry per folder or ``.zip`` in ``submissions`` (hidden files skipped)."""
    if not submissions.is_dir():
        raise GradeError(f"{submissions} is not a folder of submissions.")
    entries, seen = [], set()
    for path in sorted(submissions.iterdir()):
        if path.name.startswith("."):
            continue
        if not (path.is_dir() or path.suffix.lower() == ".zip" or path.is_symlink()):
            continue
        base = _safe_id(path.name[:-4] if path.suffix.lower() == ".zip" and not path.is_dir() else path.name)
        student_id, n = base, 2
        while student_id in seen:
            student_id, n = f"{base}-{n}", n + 1
        seen.add(student_id)
        entries.append(Entry(path, student_id))
    return entries


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``; anything else raises ValueError."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError("--shard must look like K/N with 1 <= K <= N, e.g. --shard 2/8 (got %r)." % text)
    return int(match[1]), int(match[2])


def in_shard(student_id: str, shard: tuple[int, int]) -> bool:
    """Whether ``student_id`` belongs to shard K of N (``shard == (K, N)``, K from 1).

    Decided by a hash of the id alone, never by a student's position in the folder: every shard
    (each its own job on a cluster, started at its own time) agrees on the split without talking
    to the others, each student is in exactly one shard, and adding submissions never moves a
    student to another shard. sha256, not ``hash()``: Python salts ``hash()`` of str per process.
    """
    k, n = shard
    return int(hashlib.sha256(student_id.encode("utf-8")).hexdigest(), 16) % n == k - 1


def _names_in(entry: Path) -> set[str]:
    """Top-level names in a submission (cheap; used to decide which exercises to grade)."""
    try:
        if entry.is_dir() and not entry.is_symlink():
            names = {p.name for p in entry.iterdir()}
            if len(names) == 1 and (entry / next(iter(names))).is_dir():
                names |= {p.name for p in (entry / next(iter(names))).iterdir()}
            return names
        with zipfile.ZipFile(entry) as zf:
            parts = [n.replace("\\", "/").strip("/").split("/") for n in zf.namelist()]
        return {p[0] for p in parts if p and p[0]} | {p[1] for p in parts if len(p) > 1}
    except (OSError, zipfile.BadZipFile, ValueError):
        return set()


def exercises_to_grade(course: Course, entries: t.Sequence[Entry], wanted: t.Sequence[str]) -> list[str]:
    known = course.exercises()
    if wanted:
        for name in wanted:
            course.exercise(name)  # raises a clear error for unknown names
        return list(wanted)
    found = set()
    for entry in entries:
        for name in _names_in(entry.path):
            found.add(name.removesuffix(".ipynb"))
    chosen = [name for name in known if name in found]
    if not chosen:
        raise GradeError("No exercise of this course was found in any submission. Known exercises: "
                         + ", ".join(known) + ". Use --exercise to name them.")
    return chosen


# -- one student, in a pool process --------------------------------------------------------

_LAUNCHER: t.Any = None
#: Seconds per call of student code for every exercise of a batch (default: each exercise's own).
CALL_TIMEOUT_ENV = "DL_GRADER_CALL_TIMEOUT"


def make_launcher(backend: str, fresh: bool, image: str | None, batch_id: str, device: str = "cpu",
                  warm: t.Sequence[str] = ()) -> t.Any:
    """The worker launcher for a backend.

    ``fresh``: a new container (docker) or interpreter (local) per submission, paying the torch
    import each time; otherwise a warm fork server per job slot forks each submission's worker.
    """
    from .docker_backend import LOCAL_IMAGE, DockerForkLauncher, DockerLauncher
    from .forkserver import ForkServerLauncher
    from .sandbox import LocalLauncher

    if backend == "docker":
        if fresh:
            return DockerLauncher(image or LOCAL_IMAGE, batch_id=batch_id, gpu=device == "cuda",
                                  owner_pid=os.getppid())
        return DockerForkLauncher(image or LOCAL_IMAGE, batch_id=batch_id, gpu=device == "cuda",
                                  owner_pid=os.getppid(), warm=warm)
    if fresh:
        return LocalLauncher(unprivileged=True, device=device)
    return ForkServerLauncher(unprivileged=True, warm=warm, device=device)


def _pool_init(backend: str, fresh: bool, image: str | None, batch_id: str, tmp: str, device: str = "cpu",
               warm: tuple[str, ...] = (), lang: str = "en", secret: bytes = b"") -> None:
    """Runs once per pool process: quiet warnings, open the backend, import the checks' needs.

    ``secret``: the batch's shared draws (:mod:`grader.draws`): every student gets the same seeds
    for the same check, so this process computes each of the reference's answers once.
    """
    import signal
    import warnings

    from . import draws
    from .i18n import set_language

    if secret:
        draws.share_for_process(secret)
    set_language(lang)  # the feedback this process writes

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    warnings.simplefilter("ignore")
    tempfile.tempdir = tmp  # every stage, scratch and slot folder: the parent removes them all
    global _LAUNCHER
    _LAUNCHER = make_launcher(backend, fresh, image, batch_id, device, warm)
    import atexit

    atexit.register(lambda: getattr(_LAUNCHER, "shutdown", getattr(_LAUNCHER, "close", lambda: None))())
    if hasattr(_LAUNCHER, "prestart"):
        _LAUNCHER.prestart()  # the fork server imports torch while this process does the same
    import torch

    from . import runner  # noqa: F401  (torch and pytest, once per pool process)

    torch.set_num_threads(1)  # one job per core: the worker and the checks share it


def grade_student(course_root: str, entry: Entry, out: str, exercises: list[str], device: str,
                  gpu_share: float = 0.0, lang: str = "en") -> dict[str, t.Any]:
    """Grade every exercise of one student and write their outputs. Never raises for bad input."""
    from .catalog import Course
    from .i18n import Translator
    from .intake import stage_submission
    from .reports.similarity import write_snapshots
    from .results import ExerciseResult
    from .runner import run_many
    from .sandbox import Sandbox

    started = time.monotonic()
    course = Course(Path(course_root))
    work = Path(tempfile.mkdtemp(prefix="grade-stage-", dir=getattr(_LAUNCHER, "stage_dir", None)))
    results: list[ExerciseResult] = []
    notes: list[str] = []
    try:
        depends = sorted({d for name in exercises for d in course.exercise(name).depends} - set(exercises))
        intake = stage_submission(entry.path, work / "submission", exercises, also=depends)
        os.chmod(work, 0o755)
        notes += intake.notes.get("", [])
        # The code that is graded, as text for copy detection (never imported or run).
        write_snapshots(intake.root, Path(out) / entry.student_id, exercises)
        available = [e for e in exercises if e not in intake.fatal]
        # Each exercise's own call_timeout applies, unless DL_GRADER_CALL_TIMEOUT sets one for all (the
        # platform's tests use it to keep endless loops short).
        override = os.environ.get(CALL_TIMEOUT_ENV)
        limits = Limits(threads=1, gpu_share=gpu_share, call_timeout=float(override) if override else None)
        limits = limits.for_device(device)
        with Sandbox(intake.root, available, limits, launcher=_LAUNCHER) as sandbox:
            for name, message in intake.fatal.items():
                sandbox.mark_unavailable(name, message)
            by_name = {name: course.exercise(name) for name in exercises}  # each exercise.toml read once
            graded = run_many(list(by_name.values()), sandbox, intake.root, hidden=True,
                              device=device, artifacts_dir=Path(out) / entry.student_id)  # one pytest session for all of the student's exercises
            for result in graded:
                notes_for = [intake.fatal.get(result.exercise, ""), *intake.notes.get(result.exercise, [])]
                result.notes = [n for n in notes_for if n]
                results.append(Translator(lang, by_name[result.exercise]).result(result))
        status = "passed" if all(r.all_passed for r in results) else "failed"
    except Exception as exc:  # a bug of ours must not lose the student: record it
        notes.append(f"Grading failed with an internal error ({type(exc).__name__}: {exc}); "
                     "please tell the instructor.")
        with open(Path(out) / "errors.log", "a", encoding="utf-8") as log:
            log.write(f"--- {entry.student_id}\n{traceback.format_exc()}\n")
        done = {r.exercise for r in results}
        results += [ExerciseResult(e, notes=["not graded (internal error)"]) for e in exercises if e not in done]
        status = "errored"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if lang != "en":
        notes = [Translator(lang).text(n) for n in notes]
    data = write_student(Path(out), entry.student_id, results, notes, exercises)
    return {"student_id": entry.student_id, "status": status, "score": data["score"],
            "max_score": data["max_score"], "seconds": time.monotonic() - started}


# -- the whole batch -------------------------------------------------------------------------

def resolve_backend(backend: str) -> str:
    from .docker_backend import docker_available

    if backend == "auto":
        return "docker" if docker_available() else "local"
    if backend == "docker" and not docker_available():
        raise GradeError("--backend docker: no Docker engine answers (is dockerd running? "
                         "scripts/ensure-docker.sh starts one).")
    return backend


def run_batch(course: Course, submissions: Path, options: BatchOptions, console: t.Any) -> list[dict[str, t.Any]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    entries = discover(submissions)
    if not entries:
        raise GradeError(f"{submissions} holds no submissions (one folder or .zip per student).")
    exercises = exercises_to_grade(course, entries, options.exercises)  # from all entries: every shard agrees
    if options.shard:
        entries = [e for e in entries if in_shard(e.student_id, options.shard)]
    backend = resolve_backend(options.backend)
    jobs = options.jobs or os.cpu_count() or 1
    lang = options.lang or course.language
    from .i18n import set_language

    set_language(lang)  # the report and grades.csv this process writes
    from .devices import resolve_device

    device = resolve_device(options.device)  # "auto" -> cuda or cpu; "cuda" without a GPU: a clear error
    gpu_share = 0.9 / jobs if device == "cuda" else 0.0  # jobs share the GPU's memory equally
    if backend == "docker":
        from .docker_backend import sweep_orphans

        sweep_orphans()  # containers of earlier batches whose grader was killed
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # A killed run may have died mid-write; complete files are untouched. A shard cleans only its own
    # students' folders: the other shards, writing into the same DIR right now, have theirs in flight.
    remove_partial_writes(out, [e.student_id for e in entries] if options.shard else None)
    done: dict[str, dict[str, t.Any]] = {}
    todo = []
    for entry in entries:
        previous = read_complete(out, entry.student_id, exercises) if options.resume else None
        if previous is not None:
            done[entry.student_id] = previous
        else:
            todo.append(entry)
    if backend == "local":
        from ._isolation import fallback_notice

        notice = fallback_notice()  # one line, and only when bubblewrap cannot be used here
        if notice:
            console.print(notice, soft_wrap=True, markup=False, highlight=False)
    shard = f"shard {options.shard[0]}/{options.shard[1]} · " if options.shard else ""
    console.print(f"Grading {shard}{len(todo)} submission(s) ({len(done)} already done) · exercises: "
                  f"{', '.join(exercises)} · backend: {backend}{' (fresh workers)' if options.fresh_workers else ''}"
                  f" · jobs: {jobs}")
    summaries: list[dict[str, t.Any]] = []
    counts = {"passed": 0, "failed": 0, "errored": 0}
    batch_id = uuid.uuid4().hex[:12]
    columns = [TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[counts]}")]
    context = multiprocessing.get_context("spawn")
    tmp = tempfile.mkdtemp(prefix="grade-batch-")
    os.chmod(tmp, 0o711)  # workers of other uids reach their own folders inside, but cannot list it
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_pool_init,
                                  initargs=(backend, options.fresh_workers, options.image, batch_id, tmp, device,
                                            tuple(sorted({m for e in exercises for m in course.exercise(e).warm})), lang,
                                            b"" if options.fresh_draws else secrets.token_bytes(32)))
    interrupted = False
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("grading", total=len(todo), counts="")
            from .reports import import_in_background

            import_in_background(course, exercises)
            futures = {pool.submit(grade_student, str(course.root), e, str(out), exercises, device, gpu_share,
                                   lang): e
                       for e in todo}
            for future in cf.as_completed(futures):
                entry = futures[future]
                try:
                    summary = future.result()
                except Exception as exc:  # the pool process died: record the student, go on
                    summary = _record_crash(out, entry, exercises, exc)
                counts[summary["status"]] += 1
                summaries.append(summary)
                data = read_complete(out, entry.student_id, exercises)
                if data is not None:
                    done[entry.student_id] = data
                if not options.shard:  # a shard knows only its part of the class: grade collect writes it
                    write_grades_csv(out, done, exercises)  # cheap; the report is written once, at the end
                progress.update(task, advance=1, counts=f"[green]{counts['passed']} passed[/] · "
                                f"[red]{counts['failed']} failed[/] · [yellow]{counts['errored']} errored[/]")
    except KeyboardInterrupt:
        interrupted = True
        processes = list((getattr(pool, "_processes", None) or {}).values())  # no public way in 3.11
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()  # its fork server sees the grader go and kills its workers
    finally:
        _sweep(backend, batch_id)
        pool.shutdown(wait=True, cancel_futures=True)
        _sweep(backend, batch_id)
        shutil.rmtree(tmp, ignore_errors=True)
    if not options.shard:
        write_class_outputs(out, done, exercises, course)
    if interrupted:
        console.print(f"[yellow]Interrupted:[/] {len(done)} of {len(entries)} students have complete results in "
                      f"{out}. Run the same command with --resume to grade the rest.")
        raise SystemExit(130)
    _print_summary(console, done, exercises, out, sharded=options.shard is not None)
    return summaries


def _record_crash(out: Path, entry: Entry, exercises: list[str], exc: BaseException) -> dict[str, t.Any]:
    from .results import ExerciseResult

    note = f"Grading stopped unexpectedly ({type(exc).__name__}: {exc}); please tell the instructor."
    data = write_student(out, entry.student_id, [ExerciseResult(e, notes=[note]) for e in exercises], [note],
                         exercises)
    return {"student_id": entry.student_id, "status": "errored", "score": data["score"],
            "max_score": data["max_score"], "seconds": 0.0}


def _sweep(backend: str, batch_id: str) -> None:
    if backend == "docker":
        from .docker_backend import remove_containers

        remove_containers(batch_id)


def _print_summary(console: t.Any, done: dict[str, dict[str, t.Any]], exercises: list[str], out: Path,
                   sharded: bool = False) -> None:
    from rich.table import Table

    from rich.markup import escape

    from .reports.safe_text import terminal

    wide = len(exercises) > 6  # a column per exercise no longer fits a terminal: count them instead
    table = Table(title="Batch summary", title_justify="left")
    table.add_column("student")
    for e in ([] if wide else exercises):
        table.add_column(e, justify="right")
    if wide:
        table.add_column("exercises with full marks", justify="right")
    table.add_column("total", justify="right")
    for student_id in sorted(done):
        per = done[student_id]["extra_data"]["per_exercise"]
        cells = [f"{per.get(e, [0, 0])[0]:g}/{per.get(e, [0, 0])[1]:g}" for e in exercises]
        if wide:
            full = sum(1 for e in exercises if per.get(e, [0, 0])[1] and per[e][0] == per[e][1])
            cells = [f"{full}/{len(exercises)}"]
        table.add_row(escape(terminal(student_id)), *cells,
                      f"{done[student_id]['score']:g}/{done[student_id]['max_score']:g}")
    console.print(table)
    if sharded:
        console.print(f"This shard's students have their results.json and feedback in {out}. When every shard "
                      f"has finished, run: grade collect {out} --submissions SUBMISSIONS (writes report.html, "
                      "grades.csv, grades-moodle.csv, junit.xml and similarity.html for the whole class).",
                      markup=False, highlight=False)
        return
    console.print(f"Outputs: {out}/report.html (open it in a browser), grades.csv, grades-moodle.csv, junit.xml, "
                  f"similarity.html and <student>/feedback.html, feedback.md, results.json")
