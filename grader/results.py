"""Plain records of what happened: one :class:`CheckResult` per check, made in the trusted process.

Nothing here is ever received from a worker; report writers only read these records.
"""

from __future__ import annotations

import typing as t
from dataclasses import asdict, dataclass, field

__all__ = ["CheckResult", "ExerciseResult", "Outcome", "gradescope"]

Outcome = t.Literal["passed", "failed", "error", "timeout", "skipped"]


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
    #: Files the check wrote for the student to look at (a picture of their model's predictions).
    files: list[str] = field(default_factory=list)

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
        for note in result.notes:
            tests.append({"name": f"{result.exercise}: submission", "score": 0.0, "max_score": 0.0,
                          "status": "failed", "output": note, "visibility": "visible"})
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
                          "extra_data": {"outcome": c.outcome, "duration": round(c.duration, 4)}})
    return {"score": sum(r.score for r in results), "max_score": sum(r.max_score for r in results),
            "execution_time": round(sum(r.duration for r in results), 3),
            "output": output, "tests": tests}
