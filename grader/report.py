"""Terminal rendering of results with rich (report writers only read results)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .i18n import _
from .reports.safe_text import terminal
from .results import ExerciseResult

__all__ = ["print_exercise_result"]

_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow", "skipped": "dim"}
_LABEL = {"passed": "✓ passed", "failed": "✗ failed", "error": "✗ error", "timeout": "⏱ timeout",
          "skipped": "– skipped"}  # translated with _() when shown


def print_exercise_result(result: ExerciseResult, console: Console, verbose: bool = False) -> None:
    """A table of checks, one row each, then a line with the points.

    Student text (prints, exception messages, notes) loses its escape sequences and control
    characters (:func:`grader.reports.safe_text.terminal`) before ``escape`` stops rich markup in it.
    """
    table = Table(title=_("Exercise {name}").format(name=result.exercise), title_justify="left", show_lines=True,
                  expand=False)
    table.add_column(_("Check"), overflow="fold", max_width=40)
    table.add_column(_("Result"), no_wrap=True)
    table.add_column(_("Points"), justify="right", no_wrap=True)
    table.add_column(_("Message"), overflow="fold")
    for c in result.checks:
        name = c.check_id.split("::", 1)[-1]
        name, title = terminal(name), terminal(c.title)
        title = f"{escape(name)}\n[dim]{escape(title)}[/dim]" if title else escape(name)
        message = terminal(c.message)
        message = message if (verbose or len(message) < 1500) else message[:1500] + " …"
        for path in c.files:
            message += ("\n" if message else "") + _("Written for you: {path}").format(path=terminal(path))
        if c.output:
            message += ("\n" if message else "") + _("[your output]") + "\n" + terminal(c.output)[:600]
        table.add_row(title, f"[{_STYLE[c.outcome]}]{_(_LABEL[c.outcome])}[/]", f"{c.score:g}/{c.max_score:g}",
                      escape(message))
    console.print(table)
    for note in result.notes:
        console.print(f"[red]{escape(terminal(note))}[/red]")
    passed = sum(c.outcome == "passed" for c in result.checks)
    colour = "green" if result.all_passed else "red"
    line = _("{exercise}: {score}/{max_score} points ({passed}/{count} checks passed, {seconds} s)").format(
        exercise=terminal(result.exercise), score=f"{result.score:g}", max_score=f"{result.max_score:g}", passed=passed,
        count=len(result.checks), seconds=f"{result.duration:.1f}")
    head, _sep, tail = line.partition(" (")
    console.print(f"[bold {colour}]{escape(head)}[/]" + (f" ({escape(tail)}" if tail else ""))

