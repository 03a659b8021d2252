"""The student's own packages an exercise builds on (``depends`` in ``exercise.toml``).

The capstone ``fine_tune`` runs on the student's ``callbacks``, ``optimizers``, ``one_cycle``,
``cnn_learner`` and ``lr_find``. When one of its checks fails, the first question is whether the
mistake is in ``fine_tune`` at all: :meth:`Dependencies.blamed` answers it by running the checks of
each dependency that the package really imports (read from its source, here) against the student's
dependency package, and puts "fix callbacks first" in front of the failing check's message.

The verdict only ever changes a *message*: a dependency's probes are the dependency's own public
checks (and a few hidden ones the exercise names), run as they are; they never earn or cost a
point. A student may also take a different route (write the schedule inline instead of importing
``one_cycle``); a dependency that is not imported is never blamed.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import inspect
import time
import typing as t
from pathlib import Path

from .catalog import Course, Exercise
from .proxy import StudentPackage
from .sandbox import PackageUnavailable, StudentError, WorkerError
from .scenarios import ReferencePackage, scenario_file
from .scratch import Sources, read_sources

__all__ = ["Dependencies", "imported_packages"]

#: Fixtures a probe may ask for; a check that needs any other is not used as a probe.
_PROBE_FIXTURES = {"student", "reference", "device"}
#: Seconds all probes of one grading session may take together (a check's message waits for them).
PROBE_BUDGET = 60.0


def imported_packages(sources: t.Mapping[str, str], candidates: t.Collection[str]) -> list[str]:
    """Which of ``candidates`` the package's files import by absolute name (in ``candidates`` order)."""
    found: set[str] = set()
    for text in sources.values():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return [c for c in candidates if c in found]


class Dependencies:
    """What one exercise builds on, for one grading session (the ``dependencies`` fixture).

    :param student_package: makes a :class:`StudentPackage` for a dependency in the session's sandbox.
    :param reference_package: the session's :class:`ReferencePackage` of a dependency.
    """

    def __init__(self, exercise: Exercise, submission: Path, sources: Sources,
                 student_package: t.Callable[[Exercise], StudentPackage],
                 reference_package: t.Callable[[Exercise], ReferencePackage], device: t.Any,
                 verdicts: dict[str, str | None]) -> None:
        self.exercise = exercise
        self.submission = submission
        self._course = Course(exercise.course_root)
        self._student_package, self._reference_package = student_package, reference_package
        self._device = device
        self._verdicts = verdicts  # shared by the session: each dependency is probed once
        #: dependencies the package imports (static, from the files read here)
        self.used = imported_packages(sources, exercise.depends)
        self._spent = 0.0

    def sources(self, name: str) -> Sources:
        """Every file of dependency ``name``, read here as the exercise's own (its rule covers them)."""
        return read_sources(self.submission / name, self.submission,
                            depends={self.exercise.name: self.exercise.depends})

    @contextlib.contextmanager
    def blamed(self, hidden_probes: t.Mapping[str, t.Sequence[str]] | None = None) -> t.Iterator[None]:
        """Run a check; when it fails and a dependency it uses fails its own checks, say so first.

        ``hidden_probes``: per dependency, hidden check functions to run after its public ones
        (where the course has them: never in the student bundle).
        """
        __tracebackhide__ = True
        try:
            yield
        except (AssertionError, WorkerError) as exc:
            if isinstance(exc, PackageUnavailable) or _not_started(exc, self.exercise.name):
                raise
            broken = self.broken(hidden_probes or {})
            if not broken:
                raise
            from .testing import CheckFailed

            names = ", ".join(f"`{name}`" for name in broken)
            first = next(iter(broken))
            if len(broken) == 1:
                text = (f"Fix {names} first: this check runs on your own {names} package, which fails its own "
                        f"checks (grade check {first}):")
            else:
                text = (f"Fix {names} first: this check runs on your own packages {names}, which fail their own "
                        f"checks (grade check {first}, and so on):")
            lines = [text, *(f"- {name}: {why}" for name, why in broken.items()),
                     "What this check saw (maybe only a consequence):", str(exc)]
            raise CheckFailed("\n".join(lines)) from exc

    def broken(self, hidden_probes: t.Mapping[str, t.Sequence[str]]) -> dict[str, str]:
        """``{dependency: why}`` for each used dependency that fails one of its probes."""
        out = {}
        for name in self.used:
            if name not in self._verdicts:
                self._verdicts[name] = self._probe(name, hidden_probes.get(name, ()))
            if self._verdicts[name]:
                out[name] = t.cast(str, self._verdicts[name])
        return out

    def _probe(self, name: str, hidden: t.Sequence[str]) -> str | None:
        try:
            dep = self._course.exercise(name)
        except Exception:  # noqa: BLE001 - a course without that exercise: nothing to probe
            return None
        student = self._student_package(dep)
        try:
            student.api()
        except WorkerError as exc:
            return _first_line(f"it does not import: {exc}")
        for title, function, kwargs in _probes(dep, hidden):
            if self._spent > PROBE_BUDGET:
                return None
            started = time.monotonic()
            try:
                fixtures = {"student": student, "device": self._device,
                            "reference": self._reference_package(dep)}
                function(**{k: fixtures[k] for k in inspect.signature(function).parameters if k in fixtures},
                         **kwargs)
            except (AssertionError, WorkerError) as exc:
                return f"“{title}”: {_first_line(str(exc))}"
            except Exception:  # noqa: BLE001 - a probe that cannot run here proves nothing
                continue
            finally:
                self._spent += time.monotonic() - started
        return None


def _not_started(exc: BaseException, name: str) -> bool:
    """The exercise's own stub (``NotImplementedError`` raised in it): no dependency is to blame."""
    return isinstance(exc, StudentError) and f"(exercise {name})" in str(exc) and "not implemented" in str(exc)


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "it fails"
    return line if len(line) <= limit else line[: limit - 1] + "…"


_loaded: dict[Path, t.Any] = {}


def _module(path: Path) -> t.Any:
    if path not in _loaded:
        spec = importlib.util.spec_from_file_location(f"grader_probe_{path.parent.name}_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[path] = module
    return _loaded[path]


def _probes(dep: Exercise, hidden: t.Sequence[str]) -> t.Iterator[tuple[str, t.Callable[..., t.Any], dict]]:
    """The dependency's public checks, then the named hidden ones, each with its first parameters."""
    files = [(path, None) for path in dep.check_files(hidden=False)]
    files += [(path, set(hidden)) for path in dep.hidden_checks if hidden]
    for path, wanted in files:
        try:
            module = _module(path)
        except Exception:  # noqa: BLE001 - a check file that does not load here is no evidence
            continue
        for attr, function in vars(module).items():
            if not (attr.startswith("test_") and inspect.isfunction(function)):
                continue
            if wanted is not None and attr not in wanted:
                continue
            marks = getattr(function, "pytestmark", [])
            if any(m.name == "gate" for m in marks):
                continue
            kwargs: dict[str, t.Any] = {}
            for mark in marks:
                if mark.name == "parametrize":
                    names = mark.args[0].split(",") if isinstance(mark.args[0], str) else list(mark.args[0])
                    first = mark.args[1][0]
                    values = getattr(first, "values", first)
                    values = values if len(names) > 1 else (values[0] if hasattr(first, "values") else values,)
                    kwargs.update(zip((n.strip() for n in names), values))
            needed = set(inspect.signature(function).parameters) - set(kwargs)
            if needed - _PROBE_FIXTURES:
                continue
            doc = (function.__doc__ or attr).strip().splitlines()[0]
            yield doc, function, kwargs
