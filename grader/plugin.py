"""The pytest plugin that turns an exercise's checks into graded results.

Fixtures a check may ask for:

- ``student``: the student's package (:class:`~grader.proxy.StudentPackage`); calls run in the sandbox
- ``device``: the ``torch.device`` to grade on (``--device``)
- ``student_sources``: ``{relative path: text}`` of the student's ``.py`` files, every file read in full
  here; ``.problems`` lists what could not be read as UTF-8 Python source (:mod:`grader.scratch`)
- ``reference``: the trusted implementation (:class:`~grader.scenarios.ReferencePackage`), here
- ``dependencies``: the student's packages the exercise builds on (``depends``), and whether they
  pass their own checks (:class:`~grader.dependencies.Dependencies`)
- ``artifacts``: :class:`Artifacts`, for files a check writes for the student (pictures); their
  paths appear in the feedback

Markers: ``@pytest.mark.points(n)`` (default 1), ``@pytest.mark.check_timeout(seconds)``
(default: the sandbox's ``Limits.call_timeout`` if set, e.g. by ``--timeout``, else the exercise's
``call_timeout``), ``@pytest.mark.cpu_budget(seconds)`` (CPU seconds one scenario call may use) and
``@pytest.mark.gate`` (a rule, such as "from scratch", whose failure voids the exercise's other
points: their outcomes stay as they were, for ``grade validate``, but they score 0).

An assertion's message is shown to the student as is; checks run with ``--assert=plain`` so
pytest never prints the compared (hidden) values.
"""

from __future__ import annotations

import time
import typing as t
from pathlib import Path

import pytest

from . import draws
from .catalog import Exercise
from .dependencies import Dependencies
from .proxy import StudentPackage
from .results import CheckResult, ExerciseResult, Kind, Outcome, hint_of
from .sandbox import PackageUnavailable, Sandbox, StudentError, StudentImportError, StudentTimeout, WorkerError
from .scenarios import ReferencePackage, scenario_file
from .scratch import Sources, read_sources
from .testing import CheckFailed

__all__ = ["GradePlugin"]


class Artifacts:
    """Files a check writes for the student to look at, e.g. a picture of their model's output.

    ``artifacts.path("keypoints.png")`` gives a path in the exercise's output folder (``grade
    check``: ``./grade-output/<exercise>/``; ``grade batch``: ``OUT/<student>/``); the check
    writes the file there and its path is listed under the check in the feedback.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[str] = []

    def path(self, filename: str) -> Path:
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"a plain file name is expected, not {filename!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / filename
        self.written.append(str(target))
        return target


class GradePlugin:
    """Collects one :class:`CheckResult` per check of ``exercises`` run against ``sandbox``.

    One pytest session may grade several exercises of one student (batch grading does, to pay
    pytest's session costs once); each check belongs to the exercise whose folder holds it.
    """

    def __init__(self, exercises: t.Sequence[Exercise], sandbox: Sandbox, device: str, submission: Path,
                 artifacts_dir: Path | None = None, only: t.Collection[str] | None = None) -> None:
        self.exercises = list(exercises)
        #: check functions (``conv::test_bias``) to run; ``None``: all (``grade validate`` narrows it)
        self.only = None if only is None else set(only)
        self.sandbox = sandbox
        self.device_name = device
        self.submission = submission
        self.results = {ex.name: ExerciseResult(ex.name) for ex in self.exercises}
        self.collect_errors: list[str] = []
        self._packages = {ex.name: StudentPackage(sandbox, ex.name, timeout=ex.call_timeout,
                                                  scenarios=scenario_file(ex)) for ex in self.exercises}
        self._references: dict[str, ReferencePackage] = {}
        #: Where checks write files for the student; ``None``: a per-session temporary folder.
        self.artifacts_dir = artifacts_dir
        self._artifacts: dict[str, Artifacts] = {}
        #: exercise -> ids of its failed ``gate`` checks
        self._gates_failed: dict[str, set[str]] = {}
        self._owner: dict[str, Exercise] = {}
        self._started: dict[str, float] = {}
        self._student_at_setup = self._reference_at_setup = 0.0
        self._setup_seconds: dict[str, float] = {}  # nodeid -> its setup's duration (its fixtures)
        self._sibling_threats: dict[str, list[str]] = {}  # read_sources: each sibling package read once
        self._sources: dict[str, Sources] = {}
        self._dependency_verdicts: dict[str, dict[str, str | None]] = {}  # exercise -> dependency -> why broken

    def exercise_of(self, item: pytest.Item) -> Exercise:
        """The exercise whose ``checks/<name>/`` or ``reference/<name>/`` holds the check."""
        path = Path(str(item.path))
        if str(path) not in self._owner:
            for ex in self.exercises:
                if ex.public_checks in path.parents or ex.reference in path.parents:
                    self._owner[str(path)] = ex
                    break
            else:
                raise LookupError(f"{path} belongs to no exercise being graded")
        return self._owner[str(path)]

    # -- fixtures ------------------------------------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> StudentPackage:
        return self._packages[self.exercise_of(request.node).name]  # type: ignore[arg-type]

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> ReferencePackage:
        exercise = self.exercise_of(request.node)  # type: ignore[arg-type]
        return self._references.setdefault(exercise.name, ReferencePackage(exercise))

    @pytest.fixture
    def artifacts(self, request: pytest.FixtureRequest) -> Artifacts:
        exercise = self.exercise_of(request.node)  # type: ignore[arg-type]
        if self.artifacts_dir is None:
            import tempfile

            self.artifacts_dir = Path(tempfile.mkdtemp(prefix="grade-artifacts-"))
        found = self._artifacts[request.node.nodeid] = Artifacts(self.artifacts_dir / exercise.name)
        return found

    @pytest.fixture(scope="session")
    def device(self) -> t.Any:
        import torch

        return torch.device(self.device_name)

    @pytest.fixture
    def student_sources(self, request: pytest.FixtureRequest) -> Sources:
        """Every file of the student's package, read here in full (:func:`grader.scratch.read_sources`)."""
        return self._read_sources(self.exercise_of(request.node).name)  # type: ignore[arg-type]

    def _read_sources(self, name: str) -> Sources:
        if name not in self._sources:
            self._sources[name] = read_sources(self.submission / name, self.submission,
                                               loaded_with=[ex.name for ex in self.exercises],
                                               threats=self._sibling_threats,
                                               depends={ex.name: ex.depends for ex in self.exercises})
        return self._sources[name].copy()

    @pytest.fixture
    def dependencies(self, request: pytest.FixtureRequest, device: t.Any) -> Dependencies:
        """The student's packages this exercise builds on (:class:`~grader.dependencies.Dependencies`)."""
        exercise = self.exercise_of(request.node)  # type: ignore[arg-type]

        def student_package(dep: Exercise) -> StudentPackage:
            return StudentPackage(self.sandbox, dep.name, timeout=dep.call_timeout, scenarios=scenario_file(dep))

        def reference_package(dep: Exercise) -> ReferencePackage:
            return self._references.setdefault(dep.name, ReferencePackage(dep))

        verdicts = self._dependency_verdicts.setdefault(exercise.name, {})
        return Dependencies(exercise, self.submission, self._read_sources(exercise.name), student_package,
                            reference_package, device, verdicts)

    # -- hooks ---------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points this check is worth (default 1)")
        config.addinivalue_line("markers", "check_timeout(seconds): time limit per call of student code")
        config.addinivalue_line("markers", "cpu_budget(seconds): CPU seconds one scenario call may use")
        config.addinivalue_line("markers", "gate: failing this check voids the exercise's other points")
        draws.begin_check("<collection>")  # draws made while the checks are imported

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Apply gates: a broken rule (e.g. fastai's Learner reused) voids the exercise's points."""
        for name, failed in self._gates_failed.items():
            for check in self.results[name].checks:
                if check.check_id not in failed and check.score:
                    check.score = 0.0
                    check.message = (f"Not counted: {', '.join(sorted(failed))} failed, and that rule "
                                     f"decides whether this exercise earns any points.\n{check.message}").rstrip()

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if self.only is None:
            return
        keep, drop = [], []
        for item in items:
            function = f"{self.exercise_of(item).name}::{item.name.split('[', 1)[0]}"
            (keep if function in self.only else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    @pytest.hookimpl(tryfirst=True)  # before the fixtures: they may draw, and they may call the student
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        exercise = self.exercise_of(item)
        self._started.setdefault(exercise.name, time.monotonic())
        marker = item.get_closest_marker("check_timeout")
        default = self.sandbox.limits.call_timeout or exercise.call_timeout
        self._packages[exercise.name].timeout = float(marker.args[0]) if marker else default
        budget = item.get_closest_marker("cpu_budget")
        self._packages[exercise.name].cpu_budget = float(budget.args[0]) if budget else None
        self.sandbox.take_output()  # output from before this check belongs to no check
        draws.begin_check(item.nodeid)  # shared draws (a batch): numbered per check
        self._student_at_setup = self.sandbox.student_seconds
        self._reference_at_setup = self._reference_seconds()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> t.Generator[None, t.Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "setup" and report.passed:  # a failed setup is the check's own duration
            self._setup_seconds[item.nodeid] = report.duration
        if report.when == "call" or (report.when == "setup" and not report.passed):
            exercise = self.exercise_of(item)
            result = self.results[exercise.name]
            check = self._make_result(exercise, item, call, report)
            result.checks.append(check)
            if item.get_closest_marker("gate") and check.outcome not in ("passed", "skipped"):
                self._gates_failed.setdefault(exercise.name, set()).add(check.check_id)
            result.duration = time.monotonic() - self._started[exercise.name]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {str(report.longrepr)[-3000:]}")

    # -- results -------------------------------------------------------------------------
    def _make_result(self, exercise: Exercise, item: pytest.Item, call: pytest.CallInfo[None],
                     report: pytest.TestReport) -> CheckResult:
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker else 1.0
        doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
        hidden = exercise.reference in Path(str(item.path)).parents
        outcome, message = self._outcome(call, report)
        kind = self._kind(outcome, call, bool(item.get_closest_marker("gate")))
        return CheckResult(
            check_id=f"{exercise.name}::{item.name}",
            title=doc.splitlines()[0] if doc else "",
            outcome=outcome,
            score=points if outcome == "passed" else 0.0,
            max_score=0.0 if outcome == "skipped" else points,
            message=message,
            output=self.sandbox.take_output(),
            visibility="after_published" if hidden else "visible",
            duration=report.duration,
            student_seconds=min(report.duration, self.sandbox.student_seconds - self._student_at_setup),
            reference_seconds=min(report.duration, self._reference_seconds() - self._reference_at_setup),
            setup_seconds=self._setup_seconds.pop(item.nodeid, 0.0),
            files=self._artifacts.pop(item.nodeid).written if item.nodeid in self._artifacts else [],
            kind=kind,
            hint=hint_of(message) if kind == "wrong" else "",
        )

    def _reference_seconds(self) -> float:
        return sum(r.seconds for r in self._references.values())

    @staticmethod
    def _kind(outcome: Outcome, call: pytest.CallInfo[None], gate: bool) -> Kind:
        """Why the check did not pass, from the exception it raised here (never from the worker's word).

        A gate (a from-scratch rule) that fails on its own terms is a ``rule`` violation; one that
        fails because the package did not import or the worker died says that instead.
        """
        if outcome in ("passed", "skipped"):
            return ""
        exc = call.excinfo.value if call.excinfo is not None else None
        if outcome == "timeout":
            return "timeout"
        if isinstance(exc, PackageUnavailable):
            return "missing"
        if isinstance(exc, StudentImportError):
            return "import"
        if isinstance(exc, StudentError):
            return "exception"
        if isinstance(exc, WorkerError):
            return "crash"
        # a wrong result, or one the check could not use (a crafted object, a wrong type)
        return "rule" if gate else "wrong"

    @staticmethod
    def _outcome(call: pytest.CallInfo[None], report: pytest.TestReport) -> tuple[Outcome, str]:
        if report.skipped:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            return "skipped", str(reason).removeprefix("Skipped: ")
        if report.passed or call.excinfo is None:
            return "passed", ""
        exc = call.excinfo.value
        if isinstance(exc, StudentTimeout):
            return "timeout", str(exc)
        if isinstance(exc, WorkerError):
            return "error", str(exc)
        if isinstance(exc, CheckFailed):
            return "failed", str(exc)
        if isinstance(exc, AssertionError):
            return "failed", str(exc) or "The result is wrong."
        return "error", (f"The check could not use your result: {type(exc).__name__}: {exc}")[:2000]
