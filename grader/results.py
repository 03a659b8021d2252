"""Plain records of what happened: one :class:`CheckResult` per check, made in the trusted process.

Nothing here is ever received from a worker; report writers only read these records.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import asdict, dataclass, field

__all__ = ["CheckResult", "ExerciseResult", "Outcome", "Kind", "KINDS", "gradescope", "hint_of"]

Outcome = t.Literal["passed", "failed", "error", "timeout", "skipped"]
#: Why a check did not pass, for the class report's "failures by kind" (empty when it passed).
Kind = t.Literal["", "wrong", "exception", "import", "timeout", "crash", "rule", "missing"]
#: Every failure kind with the English label the report shows (translated with ``_()``).
KINDS: dict[str, str] = {
    "wrong": "wrong values",
    "exception": "exceptions",
    "import": "import errors",
    "timeout": "timeouts",
    "crash": "crashes",
    "rule": "from-scratch violations",
    "missing": "not submitted",
}

_HINT = re.compile(r"It looks like (.+?)\.(?:\s|$)")


def hint_of(message: str) -> str:
    """The known mistake a failing check names ("It looks like <hint>."), or "" when it names none."""
    head = message.split("\nIn your code:\n", 1)[0]  # never a line of the student's traceback
    found = _HINT.search(head)
    return found.group(1).strip() if found else ""


@t.final
@dataclass
class CheckResult:
    #: Stable id: ``<exercise>::<test name>[params]``.
    check_id: str
    #: One line saying what the check looks at (the test's docstring).
    title: str
    #: ``passed``; ``failed`` (a wrong result); ``error`` (the code raised or crashed);
    #: ``timeout``; ``skipped`` (does not apply here, e.g. a CUDA check on CPU).
    outcome: Outcome
    #: Points earned and available.
    score: float
    max_score: float
    #: What went wrong and how to fix it; never contains hidden expected values.
    message: str = ""
    #: The student's own output during this check, truncated.
    output: str = ""
    #: ``visible`` for public checks, ``after_published`` for hidden ones (Gradescope's words).
    visibility: str = "visible"
    #: Seconds the check took.
    duration: float = 0.0
    #: Of those, the seconds spent waiting for the student's worker; the rest is the trusted side
    #: (the reference and the comparison). ``scripts/bench.py`` reports the split.
    student_seconds: float = 0.0
    #: Of those, the seconds spent in the trusted reference (its functions and scenarios).
    reference_seconds: float = 0.0
    #: Seconds of its setup before it ran, not in ``duration`` (pytest reports them apart): its
    #: fixtures, such as reading and scanning the student's sources, and the worker importing the
    #: student's packages when a check is the first to use them.
    setup_seconds: float = 0.0
    #: Files the check wrote for the student to look at (a picture of their model's predictions).
    files: list[str] = field(default_factory=list)
    #: Why it did not pass (:data:`KINDS`), decided here from the exception the check raised.
    kind: Kind = ""
    #: The known mistake the message names (:func:`hint_of`), for the class report's ranking.
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def function(self) -> str:
        """The check without its parameters: ``conv::test_bias[seed=1]`` -> ``conv::test_bias``."""
        return self.check_id.split("[", 1)[0]


@dataclass
class ExerciseResult:
    exercise: str
    checks: list[CheckResult] = field(default_factory=list)
    duration: float = 0.0
    #: Problems that concern the whole exercise (e.g. the submission lacks it).
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def all_passed(self) -> bool:
        return bool(self.checks) and all(c.outcome in ("passed", "skipped") for c in self.checks)

    def to_dict(self) -> dict[str, t.Any]:
        return {"exercise": self.exercise, "score": self.score, "max_score": self.max_score,
                "duration": self.duration, "notes": self.notes, "checks": [asdict(c) for c in self.checks]}


def gradescope(results: t.Sequence[ExerciseResult], output: str = "") -> dict[str, t.Any]:
    """Gradescope's ``results.json`` for one student (all their graded exercises)."""
    tests = []
    for result in results:
        for note in result.notes:  # no checks ran: the exercise was not submitted or could not be used
            kind = "" if result.checks else "missing"
            tests.append({"name": f"{result.exercise}: submission", "score": 0.0, "max_score": 0.0,
                          "status": "failed", "output": note, "visibility": "visible",
                          "tags": [kind] if kind else [],
                          "extra_data": {"check_id": f"{result.exercise}::submission", "outcome": "error",
                                         "kind": kind, "hint": "", "duration": 0.0}})
        for c in result.checks:
            text = c.message
            if c.files:
                text += ("\n\n" if text else "") + "\n".join(f"Written for you: {f}" for f in c.files)
            if c.output:
                text += ("\n\n" if text else "") + "Your output:\n" + c.output
            tests.append({"name": f"{c.check_id} — {c.title}" if c.title else c.check_id,
                          "score": c.score, "max_score": c.max_score,
                          "status": "passed" if c.outcome in ("passed", "skipped") else "failed",
                          "output": text, "visibility": c.visibility,
                          "tags": [t_ for t_ in (c.kind, c.function.split("::", 1)[-1]) if t_],
                          "extra_data": {"check_id": c.check_id, "outcome": c.outcome, "kind": c.kind,
                                         "hint": c.hint, "duration": round(c.duration, 4),
                                         "student_seconds": round(c.student_seconds, 4),
                                         "reference_seconds": round(c.reference_seconds, 4),
                                         "setup_seconds": round(c.setup_seconds, 4)}})
    return {"score": sum(r.score for r in results), "max_score": sum(r.max_score for r in results),
            "execution_time": round(sum(r.duration for r in results), 3),
            "output": output, "tests": tests}
