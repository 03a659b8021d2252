"""``grade check --all``: the public checks of every exercise of one submission, one summary table.

This is what the student bundle's ``make check`` runs. One worker imports every exercise package
(torch is imported once), and one pytest session runs every exercise's checks.
"""

from __future__ import annotations

import shutil
import tempfile
import typing as t
from pathlib import Path

from .catalog import Course, Exercise
from .i18n import _
from .results import ExerciseResult

__all__ = ["check_all", "gather_submission", "print_summary"]


def check_all(course: Course, submission: Path | None, *, hidden: bool, device: str, limits: t.Any, lang: str,
              as_json: bool, verbose: bool, console: t.Any) -> int:
    """Grade every exercise of one submission (default: the course's ``exercises/``); the exit status."""
    import json

    import click

    from .errors import GradeError, SubmissionNotFound
    from .i18n import Translator
    from .reports.safe_text import terminal
    from .sandbox import Sandbox

    exercises = [ex for ex in course.exercises().values() if ex.check_files(False)]
    if hidden and not all(ex.hidden_checks for ex in exercises):
        raise GradeError("No hidden checks here (they are not part of the student bundle).")
    root = (submission or course.root / "exercises").resolve()
    if not root.is_dir():
        raise SubmissionNotFound(f"Submission folder {root} does not exist.")
    staged, found, notes = gather_submission(course, root, exercises)
    try:
        missing = [ex.name for ex in exercises if ex.name not in found]
        with Sandbox(staged, found, limits) as sandbox:  # one worker: torch is imported once
            for name in missing:
                sandbox.mark_unavailable(name, f"{root} has no folder {name}/ (the package with your code).")
            from .runner import resolve_device, run_many

            results = run_many(exercises, sandbox, staged, hidden=hidden, device=resolve_device(device),
                               artifacts_dir=Path.cwd() / "grade-output")
    finally:
        if staged != root:
            shutil.rmtree(staged, ignore_errors=True)
    results = [Translator(lang, ex).result(r) for ex, r in zip(exercises, results)]
    for note in notes:
        click.echo(terminal(Translator(lang).text(note)), err=True)
    if as_json:
        from .results import gradescope

        click.echo(json.dumps(gradescope(results), indent=2, ensure_ascii=False))
    else:
        if verbose:
            from .report import print_exercise_result

            for result in results:
                print_exercise_result(result, console, verbose)
        print_summary(results, course, console, lang)
    return 0 if all(r.all_passed for r in results) else 1


def gather_submission(course: Course, root: Path, exercises: t.Sequence[Exercise]) -> tuple[Path, list[str], list[str]]:
    """The folder to grade, the exercises found in it and notes for the student.

    ``root`` holds ``<name>/`` packages and/or ``<name>.ipynb`` notebooks. When notebooks are
    involved, a temporary folder with the converted notebooks (and copies of the packages) is
    returned; the caller removes it when it is not ``root``.
    """
    from .notebooks import NotebookError, notebook_to_module, write_notebook_package

    found, notes, converted = [], [], {}
    for ex in exercises:
        if (root / ex.name).is_dir():
            found.append(ex.name)
        elif (root / f"{ex.name}.ipynb").is_file():
            try:
                converted[ex.name] = notebook_to_module((root / f"{ex.name}.ipynb").read_bytes(), f"{ex.name}.ipynb")
            except (NotebookError, OSError) as exc:
                notes.append(str(exc))
                continue
            found.append(ex.name)
            notes += converted[ex.name].notes
    if not converted:
        return root, found, notes
    staged = Path(tempfile.mkdtemp(prefix="grade-all-"))
    for name in found:
        if name in converted:
            write_notebook_package(converted[name], staged / name, name)
        else:
            shutil.copytree(root / name, staged / name, ignore=shutil.ignore_patterns("__pycache__"))
    return staged, found, notes


def _first_problem(result: ExerciseResult) -> str:
    """The first line of the first note or failing check's message, free of escape sequences (student text)."""
    from .reports.safe_text import terminal

    for note in result.notes:
        return terminal(note).split("\n")[0]
    for check in result.checks:
        if check.outcome not in ("passed", "skipped"):
            line = terminal(check.message).split("\n")[0] if check.message else ""
            return f"{terminal(check.check_id.split('::', 1)[-1])}: {line}"[:200]
    return ""


def print_summary(results: t.Sequence[ExerciseResult], course: Course, console: t.Any, lang: str = "en") -> None:
    """One row per exercise (title, checks passed, points, the first problem), then the total."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=_("Public checks of every exercise"), title_justify="left", show_lines=False)
    table.add_column(_("Exercise"), no_wrap=True)
    table.add_column(_("Title"), overflow="fold", max_width=24)
    table.add_column(_("Checks"), justify="right", no_wrap=True)
    table.add_column(_("Points"), justify="right", no_wrap=True)
    table.add_column(_("First problem"), overflow="fold")
    exercises = course.exercises()
    for r in results:
        ex = exercises.get(r.exercise)
        title = (ex.title_de or ex.title) if (ex and lang == "de") else (ex.title if ex else "")
        passed = sum(c.outcome == "passed" for c in r.checks)
        colour = "green" if r.all_passed else "red"
        table.add_row(escape(r.exercise), escape(title), f"{passed}/{len(r.checks)}",
                      f"[{colour}]{r.score:g}/{r.max_score:g}[/]", escape(_first_problem(r)))
    console.print(table)
    total, maximum = sum(r.score for r in results), sum(r.max_score for r in results)
    done = sum(r.all_passed for r in results)
    colour = "green" if done == len(results) else "red"
    console.print(f"[bold {colour}]" + escape(_("Total: {score}/{max_score} points, {done} of {count} exercises "
                                                "complete").format(score=f"{total:g}", max_score=f"{maximum:g}",
                                                                   done=done, count=len(results))) + "[/]")
    if done < len(results):
        console.print(escape(_("Details of one exercise: grade check NAME")))
