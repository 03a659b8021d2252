"""Run one exercise's checks against one submission, in this (trusted) process.

The submission's code runs in a :class:`~grader.sandbox.Sandbox`; pytest, the checks and the
references run here. Start the sandbox *before* importing this module when start-up time
matters: the worker imports torch while this process imports pytest and torch.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import typing as t
import warnings
from pathlib import Path

import pytest

from .catalog import Exercise
from .devices import resolve_device
from .errors import ExerciseConfigError
from .plugin import GradePlugin
from .results import ExerciseResult
from .sandbox import Sandbox

__all__ = ["run_checks", "run_many", "resolve_device"]

_INI = Path(__file__).with_name("checks.ini")
#: pytest plugins checks do not need. ``unraisableexception`` alone runs gc.collect() four times per
#: session (0.5 s per student in a batch); the others add per-test work for features we don't use.
_UNUSED_PLUGINS = ("cacheprovider", "randomly", "unraisableexception", "threadexception", "logging",
                   "faulthandler", "doctest", "junitxml", "pastebin", "legacypath", "stepwise", "lsof")


def run_checks(exercise: Exercise, sandbox: Sandbox, submission: Path, *, hidden: bool,
               device: str = "cpu", artifacts_dir: Path | None = None, stop_early: bool = False,
               only: t.Collection[str] | None = None) -> ExerciseResult:
    """Grade ``exercise`` for the student whose packages are in ``submission``."""
    return run_many([exercise], sandbox, submission, hidden=hidden, device=device, artifacts_dir=artifacts_dir,
                    stop_early=stop_early, only=only)[0]


def run_many(exercises: t.Sequence[Exercise], sandbox: Sandbox, submission: Path, *, hidden: bool,
             device: str = "cpu", artifacts_dir: Path | None = None, stop_early: bool = False,
             only: t.Collection[str] | None = None) -> list[ExerciseResult]:
    """Grade several exercises of one student in one pytest session (one result per exercise).

    Files checks write for the student (pictures) go to ``artifacts_dir/<exercise>/``.
    ``stop_early``: stop at the first check that does not pass (``grade validate --quick`` only needs
    to know that a mutant is caught); ``only``: run just these check functions (``conv::test_bias``).
    Neither is for grading a student: their result lacks the checks not run.
    """
    files = [f for ex in exercises for f in ex.check_files(hidden)]
    for ex in exercises:
        if not ex.check_files(hidden):
            raise ExerciseConfigError(f"Exercise {ex.name!r} has no checks in {ex.public_checks}.")
    if not exercises:
        return []
    root = str(exercises[0].course_root)
    if root not in sys.path:
        sys.path.append(root)  # hidden checks import reference/<name>/ helpers from here
    plugin = GradePlugin(exercises, sandbox, device, submission, artifacts_dir, only=only)
    args = [*map(str, files), *(["-x"] if stop_early else []), "-c", str(_INI), "--rootdir", root, "--import-mode=importlib",
            "--assert=plain", "--noconftest", "-q", "--no-header", "-s", "--tb=no",
            *(arg for plugin_name in _UNUSED_PLUGINS for arg in ("-p", f"no:{plugin_name}"))]
    _configure_torch(device)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()) as log:
        warnings.simplefilter("ignore")
        code = pytest.main(args, plugins=[plugin])
    if plugin.collect_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        details = "\n".join(plugin.collect_errors) or log.getvalue()[-3000:]
        names = ", ".join(repr(ex.name) for ex in exercises)
        raise ExerciseConfigError(f"The checks of {names} could not be loaded:\n{details}")
    return [plugin.results[ex.name] for ex in exercises]


def _configure_torch(device: str) -> None:
    """The course's CUDA settings for exact references (EXERCISES.md): IEEE fp32, deterministic."""
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if device == "cuda":
        torch.backends.cudnn.deterministic = True
        try:
            torch.backends.cudnn.conv.fp32_precision = "ieee"  # type: ignore[attr-defined]
            torch.backends.cuda.matmul.fp32_precision = "ieee"  # type: ignore[attr-defined]
        except AttributeError:
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
