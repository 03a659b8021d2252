"""Scenarios: public code that builds models, data and callbacks and drives the exercise's API.

Most objects a training check needs (an ``nn.Module``, DataLoaders, a recording callback the
student's loop calls back into) cannot cross the sandbox boundary. So an exercise may ship
``checks/<name>/scenarios.py``: plain functions ``def fit_events(impl, *, seed, ...)`` that get the
exercise's API as ``impl`` and the run's ``seed`` (also used to seed torch, random and numpy), build everything from plain arguments, run it, and return **data**
(tensors, numbers, strings, lists, dicts, state_dicts).

The same function runs twice:

- in the worker against the student's package: ``student.scenario("fit_events", ...)``
  (:meth:`grader.proxy.StudentPackage.scenario`; the source travels with the request), and
- here, in the trusted process, against the trusted implementation
  ``reference/<name>/implementation.py``: ``reference.scenario("fit_events", ...)``.

Both runs use :func:`grader._seeding.deterministic` with the same seed. The worker's result is
only a claim (the student can patch the scenario), so checks judge what only correct work
produces; see CONTRIBUTING.md, "Scenarios".
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import secrets
import sys
import threading
import time
import types
import typing as t
from pathlib import Path

from . import _codec, draws
from ._seeding import deterministic
from .catalog import Exercise
from .errors import ExerciseConfigError

__all__ = ["ReferencePackage", "scenario_file", "load_scenarios", "load_scenario_file", "fresh_seed", "as_data"]

#: The file that holds an exercise's scenarios (public: it ships with the checks).
SCENARIOS = "scenarios.py"


def scenario_file(exercise: Exercise) -> Path:
    return exercise.public_checks / SCENARIOS


def fresh_seed() -> int:
    """A seed nobody knows before the check runs, so a canned result cannot match its run.

    In ``grade batch`` and ``grade validate`` every submission gets the same seeds for the same
    check (from a secret of the run: :mod:`grader.draws`), so the reference's answers are computed
    once per run; ``grade check`` draws anew each time.
    """
    shared = draws.draw()
    return shared if shared is not None else secrets.randbelow(2**31 - 1) + 1


def load_scenario_file(path: Path) -> types.ModuleType:
    """Import a ``scenarios.py`` in this process, once per file (checks, references and the
    ``reference`` side share the module: it is public code without state of its own)."""
    path = Path(path).resolve()
    return _load_once(f"grader_scenarios_trusted_{path.parent.name}", path)


def load_course_module(path: Path) -> types.ModuleType:
    """Import another public helper module of a check folder (``checks/keypoints/thug_cat.py``) in
    this process, once per file: course code, trusted like ``scenarios.py``, never student code."""
    path = Path(path).resolve()
    return _load_once(f"grader_course_{path.parent.name}_{path.stem}", path)


_LOADING = threading.RLock()


def _load_once(name: str, path: Path) -> types.ModuleType:
    """Import ``path`` as ``name`` once. Under a lock: the module sits in ``sys.modules`` while it
    runs, and a second thread (the web app draws its sample cats in a thread pool) must not take
    it half-initialised. A module that fails to run is not kept."""
    with _LOADING:
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module


def load_scenarios(exercise: Exercise) -> types.ModuleType:
    """Import ``checks/<name>/scenarios.py`` in this process (once per exercise)."""
    path = scenario_file(exercise)
    if not path.is_file():
        raise ExerciseConfigError(f"Exercise {exercise.name!r} has no {SCENARIOS} in {exercise.public_checks}.")
    return load_scenario_file(path)


def as_data(value: object) -> t.Any:
    """``value`` as the worker would have sent it: data only (tuples, dicts, plain tensors).

    Running the reference's result through the same codec makes both sides comparable, and a
    scenario that returns a non-data object fails here, where its author sees it.
    """
    blobs: list[bytes] = []
    try:
        encoded = _codec.encode(value, blobs)
    except _codec.CodecError as exc:
        raise ExerciseConfigError(f"a scenario must return data only: {exc}") from None
    return _codec.decode(encoded, [bytes(b) for b in blobs])


class ReferencePackage:
    """The trusted implementation of an exercise's API, in this process.

    ``reference.NAME`` is an attribute of ``reference/<name>/implementation.py`` (torch or
    fastai behind the exercise's API); ``reference.scenario(...)`` runs a scenario against it.
    fastai is imported only when a check asks for it.
    """

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self._module: types.ModuleType | None = None
        #: Seconds spent in the reference's functions and scenarios (the bench's reference side).
        self.seconds = 0.0

    @property
    def implementation(self) -> types.ModuleType:
        if self._module is None:
            path = self.exercise.reference / "implementation.py"
            if not path.is_file():
                raise ExerciseConfigError(f"{path} is missing: scenarios need a trusted implementation.")
            self._module = importlib.import_module(f"reference.{self.exercise.name}.implementation")
        return self._module

    def __getattr__(self, name: str) -> t.Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self.implementation, name)
        if not inspect.isfunction(value):
            return value  # classes and constants as they are (isinstance checks must keep working)

        @functools.wraps(value)
        def timed(*args: t.Any, **kwargs: t.Any) -> t.Any:
            started = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed

    def scenario(self, name: str, *args: t.Any, seed: int = 0, **kwargs: t.Any) -> t.Any:
        """Run scenario ``name`` against the reference with the same seed the student's run got."""
        function = getattr(load_scenarios(self.exercise), name)

        def run() -> t.Any:
            with deterministic(seed):
                return as_data(function(self.implementation, *args, seed=seed, **kwargs))

        # While draws are shared, the same scenario with the same arguments and seed has one answer.
        started = time.perf_counter()
        try:
            key = draws.MEMO.key("scenario", self.exercise.name, name, list(args), kwargs, seed)
            return draws.MEMO.get_or_compute(key, run)
        finally:
            self.seconds += time.perf_counter() - started

    def __repr__(self) -> str:
        return f"<reference implementation of {self.exercise.name!r}>"
