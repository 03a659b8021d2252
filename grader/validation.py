"""``grade validate``: prove an exercise's checks right before students see them.

Four promises per exercise: the solution gets full marks; the stub gets zero; every mutant in
``reference/<name>/mutants/`` fails at least one check; every hidden check (a test function, all
its parameters together) fails on at least one mutant, so no check is dead weight.

Each submission gets its own worker, forked from one warm fork server (``forkserver.py``), so a
mutant costs a fork instead of a 2 s torch import.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from . import draws
from ._limits import Limits
from .authoring import mutant_submission
from .catalog import Exercise
from .forkserver import ForkServerLauncher
from .results import ExerciseResult
from .sandbox import Sandbox

__all__ = ["ValidationReport", "validate_exercise", "validate_many", "print_validation", "write_junit"]


@dataclass
class ValidationReport:
    exercise: str
    problems: list[str] = field(default_factory=list)
    #: ``(what, score, max_score, failed check functions)`` per graded submission.
    rows: list[tuple[str, float, float, list[str]]] = field(default_factory=list)
    #: hidden check function -> names of the mutants that fail it
    caught_by: dict[str, list[str]] = field(default_factory=dict)
    #: mutants not run on this device, with the reason (a TF32 mutant on a CPU)
    skipped: list[str] = field(default_factory=list)
    #: the graded result of each submission (``solution``, ``stub``, ``mutant <name>``), in English:
    #: what the German audit translates instead of grading everything a second time
    results: dict[str, ExerciseResult] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems


_REQUIRES = re.compile(r"^__requires_device__\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)


def mutant_device(mutant: Path) -> str | None:
    """The device a mutant's mistake needs (``__requires_device__ = "cuda"`` in its file), if any.

    TF32 exists only on CUDA, so a TF32 mutant is caught on a GPU and skipped, with a reason, on
    a CPU instead of being counted as caught.
    """
    match = _REQUIRES.search(mutant.read_text(encoding="utf-8"))
    return match.group(1) if match else None


def _failed_functions(result: ExerciseResult) -> list[str]:
    return sorted({c.function for c in result.checks if c.outcome not in ("passed", "skipped")})


def validate_exercise(exercise: Exercise, device: str = "cpu", console: t.Any = None,
                      only: t.Sequence[str] | None = None, quick: bool = False) -> ValidationReport:
    """Grade the solution, the stub and every mutant of ``exercise`` (or the mutants named in ``only``)
    with all checks.

    ``quick``: the same four promises, decided with less grading. A mutant is graded until its
    first failing check (that is enough to know it is caught); then only the hidden checks no
    mutant has failed yet are run, mutant after mutant, until each has caught one. The report's
    rows then list, per mutant, the checks that were run and failed, not every check it fails.
    """
    from .runner import resolve_device

    device = resolve_device(device)
    report = ValidationReport(exercise.name)
    import torch

    torch.set_num_threads(1)  # the checks and the worker take turns; more threads only fight on a busy CI box
    if not exercise.hidden_checks:
        report.problems.append(f"{exercise.name}: no hidden checks in {exercise.reference}")
        return report
    temporary: list[Path] = []
    subjects: list[tuple[str, Path]] = [("solution", exercise.solution.parent), ("stub", exercise.stub.parent)]
    for mutant in exercise.mutants:
        if only is not None and mutant.stem not in only:
            continue
        needs = mutant_device(mutant)
        if needs and needs != device:
            report.skipped.append(f"mutant {mutant.stem}: needs {needs} (it is a {needs}-only mistake, "
                                  f"e.g. TF32), not run on {device}")
            continue
        root = mutant_submission(exercise, mutant)
        temporary.append(root)
        subjects.append((f"mutant {mutant.stem}", root))
    launcher = ForkServerLauncher(unprivileged=False, warm=exercise.warm, role="validate")
    hidden_functions: set[str] = set()
    # Shared draws: the solution, the stub and every mutant are compared with one reference answer
    # per check, computed once (grader/draws.py).
    with draws.sharing():
        _grade_subjects(report, exercise, subjects, hidden_functions, launcher, device, quick, console, temporary)
    if not exercise.mutants:
        report.problems.append("there are no mutants in reference/<name>/mutants/")
    for function in sorted(hidden_functions):
        if function not in report.caught_by:
            report.problems.append(f"hidden check {function} fails on no mutant: dead weight, or a mutant is missing")
    return report


def _grade_subjects(report: ValidationReport, exercise: Exercise, subjects: t.Sequence[tuple[str, Path]],
                    hidden_functions: set[str], launcher: t.Any, device: str, quick: bool, console: t.Any,
                    temporary: t.Sequence[Path]) -> None:
    from .runner import run_checks

    try:
        status = console.status("") if console is not None else contextlib.nullcontext()
        with status:
            for what, root in subjects:
                if console is not None:
                    status.update(f"validate {exercise.name}: {what}…")  # type: ignore[union-attr]
                with Sandbox(root, [exercise.name], Limits(threads=1).for_device(device), launcher=launcher) as sandbox:
                    result = run_checks(exercise, sandbox, root, hidden=True, device=device,
                                        stop_early=quick and what.startswith("mutant"))
                _record(report, what, result, hidden_functions)
            if quick:
                _cover(report, exercise, subjects, hidden_functions, launcher, device, status, console)
    finally:
        launcher.close()
        for root in temporary:
            shutil.rmtree(root, ignore_errors=True)


def _record(report: ValidationReport, what: str, result: ExerciseResult,
            hidden_functions: set[str]) -> None:
    """Check one graded submission against its promise (full marks, zero, or caught)."""
    failed = _failed_functions(result)
    report.rows.append((what, result.score, result.max_score, failed))
    report.results[what] = result
    hidden_functions |= {c.function for c in result.checks if c.visibility != "visible"}
    if what == "solution" and result.score != result.max_score:
        bad = [f"{c.check_id}: {c.message[:300]}" for c in result.checks if not c.passed]
        report.problems.append("the solution does not get full marks:\n  " + "\n  ".join(bad))
    elif what == "stub" and result.score != 0:
        passed = [c.check_id for c in result.checks if c.passed]
        report.problems.append(f"the stub earns {result.score:g} points (passes {', '.join(passed)})")
    elif what.startswith("mutant"):
        if not failed:
            report.problems.append(f"{what} passes every check: no check catches this mistake")
        for function in failed:
            report.caught_by.setdefault(function, []).append(what.removeprefix("mutant "))


def _cover(report: ValidationReport, exercise: Exercise, subjects: t.Sequence[tuple[str, Path]],
           hidden_functions: set[str], launcher: t.Any, device: str, status: t.Any, console: t.Any) -> None:
    """``quick`` validation's second pass: the hidden checks no mutant failed yet, mutant after mutant."""
    from .runner import run_checks

    for what, root in subjects:
        uncovered = hidden_functions - set(report.caught_by)
        if not uncovered:
            return
        if not what.startswith("mutant"):
            continue
        if console is not None:
            status.update(f"validate {exercise.name}: {len(uncovered)} check(s) on {what}…")
        with Sandbox(root, [exercise.name], Limits(threads=1).for_device(device), launcher=launcher) as sandbox:
            result = run_checks(exercise, sandbox, root, hidden=True, device=device, only=uncovered)
        for function in _failed_functions(result):
            if function in uncovered:
                report.caught_by.setdefault(function, []).append(what.removeprefix("mutant "))


def _validate_in_child(course_root: str, name: str, device: str, quick: bool = False) -> ValidationReport:
    import warnings

    from .catalog import Course

    warnings.simplefilter("ignore")
    return validate_exercise(Course(Path(course_root)).exercise(name), device=device, quick=quick)


def _lower_priority(nice: int) -> None:
    import os

    os.nice(nice)


def validate_many(exercises: t.Sequence[Exercise], device: str = "cpu", jobs: int = 1,
                  console: t.Any = None, quick: bool = False, nice: int = 0) -> t.Iterator[ValidationReport]:
    """Validate several exercises, ``jobs`` at a time in separate processes; reports in the given order.

    Validation is CPU-bound and exercises are independent, so on a 2-core CI machine two jobs
    halve the wall time of ``make test``'s biggest part. ``nice``: the pool's processes run at that
    lower priority (``make test`` validates in the background while the other tests run).
    """
    if jobs <= 1 or len(exercises) <= 1:
        for exercise in exercises:
            yield validate_exercise(exercise, device=device, console=console, quick=quick)
        return
    import concurrent.futures as cf
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # never fork a process that has torch threads
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_lower_priority,
                                initargs=(nice,)) as pool:
        futures = [pool.submit(_validate_in_child, str(ex.course_root), ex.name, device, quick) for ex in exercises]
        status = console.status("") if console is not None else contextlib.nullcontext()
        with status:
            for exercise, future in zip(exercises, futures):
                if console is not None:
                    status.update(f"validate: {exercise.name} ({jobs} at a time)…")  # type: ignore[union-attr]
                yield future.result()


def write_junit(reports: t.Sequence[ValidationReport], path: Path, device: str) -> None:
    """JUnit XML for CI: one test case per exercise, its problems as the failure text."""
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name=f"grade validate --device {device}", tests=str(len(reports)),
                       failures=str(sum(not r.ok for r in reports)))
    for report in reports:
        case = ET.SubElement(suite, "testcase", classname="validate", name=report.exercise)
        if not report.ok:
            ET.SubElement(case, "failure", message=f"{len(report.problems)} problem(s)").text = \
                "\n".join(report.problems)
        rows = [f"{what}: {score:g}/{max_score:g}" for what, score, max_score, _ in report.rows]
        ET.SubElement(case, "system-out").text = "\n".join(rows + [f"skipped {s}" for s in report.skipped])
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def print_validation(report: ValidationReport, console: t.Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"validate {report.exercise}", title_justify="left")
    table.add_column("Submission")
    table.add_column("Points", justify="right")
    table.add_column("Failed checks", overflow="fold")
    for what, score, max_score, failed in report.rows:
        names = ", ".join(f.split("::", 1)[-1] for f in failed)
        table.add_row(what, f"{score:g}/{max_score:g}", escape(names) or "[green]none[/green]")
    console.print(table)
    if report.ok:
        console.print(f"[bold green]{report.exercise}: valid[/] — solution full marks, stub zero, "
                      f"{len(report.rows) - 2} mutants caught, every hidden check catches a mutant.")
    for skipped in report.skipped:
        console.print(f"[yellow]{report.exercise}: skipped {escape(skipped)}[/]")
    for problem in report.problems:
        console.print(f"[bold red]{report.exercise}: {escape(problem)}[/]")
