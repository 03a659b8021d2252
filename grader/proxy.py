"""What a check sees as ``student``: a stand-in for the student's package that lives elsewhere.

``student.conv2d(x, w)`` sends the call to the sandboxed worker and returns the decoded result;
classes and other non-data results come back as :class:`~grader.sandbox.RemoteObject` handles.
"""

from __future__ import annotations

import contextlib
import copy
import typing as t
from pathlib import Path

from .errors import ExerciseConfigError
from .sandbox import RemoteObject, Sandbox, WorkerError

__all__ = ["StudentPackage", "RemoteFunction", "RemoteObject"]


class StudentPackage:
    """The student's package ``name``, reached through ``sandbox``.

    :param timeout: seconds a call may take; the plugin sets it per check from the
        ``check_timeout`` marker.
    """

    def __init__(self, sandbox: Sandbox, name: str, timeout: float | None = None,
                 scenarios: Path | None = None) -> None:
        self._sandbox = sandbox
        self._name = name
        self.timeout = timeout
        #: CPU seconds one scenario call may use (the ``cpu_budget`` marker); ``None``: no extra limit.
        self.cpu_budget: float | None = None
        self._scenarios = scenarios
        self._source: str | None = None
        #: Names of the aten ops recorded inside :meth:`recording_ops` blocks.
        self.ops_seen: set[str] = set()
        self._recording = 0
        self._once: dict[tuple[str, str], tuple[bool, t.Any]] = {}

    @property
    def name(self) -> str:
        return self._name

    def __getattr__(self, name: str) -> "RemoteFunction":
        if name.startswith("__"):
            raise AttributeError(name)
        return RemoteFunction(self, [name])

    def get(self, name: str) -> t.Any:
        """The value of the package attribute ``name`` (data, or a remote handle)."""
        return self._request("getattr", [name])

    def api(self) -> list[str]:
        """Public names the student's package defines."""
        return t.cast(list[str], self._sandbox.request("import", package=self._name, timeout=self.timeout))

    def scenario(self, name: str, *args: t.Any, seed: int = 0, **kwargs: t.Any) -> t.Any:
        """Run the public scenario ``name`` (``checks/<exercise>/scenarios.py``) in the worker.

        The scenario gets the student's package as its first argument, then ``args``, ``seed=seed``
        and ``kwargs`` (data only); it runs seeded with ``seed``, one thread, deterministic kernels
        and within the check's timeout and CPU budget. The result is data, and only a claim:
        compare it with ``reference.scenario(...)`` or evaluate it here (CONTRIBUTING.md).
        """
        extra = {"source": self._scenario_source(), "filename": f"checks/{self._name}/scenarios.py",
                 "seed": int(seed), "cpu_budget": self.cpu_budget}
        return self._request("scenario", [name], args, kwargs, what=f"scenario {name!r}", extra=extra)

    def scenario_once(self, name: str, **kwargs: t.Any) -> t.Any:
        """``scenario(name, seed=<drawn now>, **kwargs)``, run once per grading session.

        For an expensive scenario whose result is judged here, not believed (trained weights that
        each check evaluates on its own private data): a second check that needs the same training
        gets a copy of the first result, or the same error, instead of training again.
        """
        from .scenarios import fresh_seed

        key = (name, repr(sorted(kwargs.items())))
        if key not in self._once:
            try:
                self._once[key] = (True, self.scenario(name, seed=fresh_seed(), **kwargs))
            except WorkerError as exc:
                self._once[key] = (False, exc)
        ok, value = self._once[key]
        if not ok:
            raise value
        return copy.deepcopy(value)

    def _scenario_source(self) -> str:
        """The text of ``scenarios.py``, read once per package (every scenario call sends it)."""
        if self._source is None:
            if self._scenarios is None or not self._scenarios.is_file():
                raise ExerciseConfigError(f"Exercise {self._name!r} has no scenarios.py next to its checks.")
            self._source = self._scenarios.read_text(encoding="utf-8")
        return self._source

    def imported_modules(self) -> set[str]:
        """Modules this package brought into the worker: at its import and during calls of it.

        A tripwire for "from scratch" rules (``fastai.learner`` showing up where fastai's Learner
        is forbidden); like every worker record it can be suppressed, so it backs up the source scan.
        """
        value = self._sandbox.request("modules", package=self._name, timeout=self.timeout)
        return {str(m) for m in value} if isinstance(value, list) else set()

    @contextlib.contextmanager
    def recording_ops(self) -> t.Iterator[set[str]]:
        """Record the aten ops every call inside the block runs (for from-scratch rules)."""
        self._recording += 1
        seen: set[str] = set()
        previous, self.ops_seen = self.ops_seen, seen
        try:
            yield seen
        finally:
            self._recording -= 1
            self.ops_seen = previous | seen

    def _request(self, op: str, path: list[str], args: t.Sequence[t.Any] = (),
                 kwargs: dict[str, t.Any] | None = None, what: str | None = None,
                 extra: dict[str, t.Any] | None = None) -> t.Any:
        value, ops = self._sandbox.call_with_ops(op, package=self._name, path=path, args=args, kwargs=kwargs,
                                                 record_ops=self._recording > 0, timeout=self.timeout,
                                                 what=what, extra=extra)
        self.ops_seen.update(ops)
        return value

    def __repr__(self) -> str:
        return f"<student package {self._name!r}>"


class RemoteFunction:
    """A (not yet fetched) attribute of the student's package; calling it runs it remotely."""

    __slots__ = ("_package", "_path")

    def __init__(self, package: StudentPackage, path: list[str]) -> None:
        self._package = package
        self._path = path

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._package._request("call", self._path, args, kwargs)

    def __getattr__(self, name: str) -> "RemoteFunction":
        if name.startswith("__"):
            raise AttributeError(name)
        return RemoteFunction(self._package, [*self._path, name])

    def get(self) -> t.Any:
        """Fetch the attribute itself (data, or a remote handle)."""
        return self._package._request("getattr", self._path)

    def __repr__(self) -> str:
        return f"<student {'.'.join(self._path)}>"

