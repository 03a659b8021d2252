"""Scenarios: public code that drives the student's objects in the sandbox, judged in the trusted process.

The `callbacks` exercise is the pilot: its checks run ``checks/callbacks/scenarios.py`` in the
worker and against fastai's own Learner here. These tests prove the machinery (seeds, CPU budget,
module tripwire, data-only results) and that cheating with it gets nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS, grade
from grader.proxy import StudentPackage
from grader.sandbox import Sandbox
from grader.scenarios import ReferencePackage, as_data, scenario_file
from grader.testing import CheckFailed, assert_from_scratch, find_forbidden_imports, find_indirect_imports

HOSTILE = Path(__file__).resolve().parent / "hostile_scenarios"
LIMITS = TEST_LIMITS.replace(call_timeout=30.0, import_timeout=60.0, memory_mb=4096)


def callbacks_submission(root: Path, source: str) -> Path:
    package = root / "callbacks"
    package.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / "callbacks" / "__init__.py", package / "__init__.py")
    (package / "callbacks.py").write_text(source)
    return root


def _jsonable(value):
    import torch

    if isinstance(value, torch.Tensor):
        return {"$tensor": value.tolist()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@pytest.mark.slow
def test_forged_scenario_results_earn_nothing(course, tmp_path):
    """The stub plus a worker patch that answers every scenario with a canned (correct) result."""
    reference = ReferencePackage(course.exercise("callbacks"))
    canned = {"fit_events": _jsonable(reference.scenario("fit_events", seed=0)),
              "learner_names": _jsonable(reference.scenario("learner_names", seed=0))}
    stub = (REPO / "exercises" / "callbacks" / "callbacks.py").read_text()
    root = callbacks_submission(tmp_path, stub + "\n" + (HOSTILE / "forged_scenario.py").read_text())
    (root / "callbacks" / "canned.json").write_text(json.dumps(canned))
    with Sandbox(root, ["callbacks"], LIMITS) as sandbox:  # the forgery is live: any seed gets the canned run
        student = StudentPackage(sandbox, "callbacks", timeout=30,
                                 scenarios=scenario_file(course.exercise("callbacks")))
        assert _jsonable(student.scenario("learner_names", seed=12345)) == canned["learner_names"]
    result = grade(course, "callbacks", root, limits=LIMITS)
    by_function: dict[str, list] = {}
    for check in result.checks:
        by_function.setdefault(check.function, []).append(check)
    for function in ("callbacks::test_training_matches_fastai", "callbacks::test_cancel",
                     "callbacks::test_learner_exposes_fastai_names"):
        assert all(c.score == 0 and not c.passed for c in by_function[function]), \
            [(c.check_id, c.message) for c in by_function[function] if c.passed]
    assert result.score <= 0.25 * result.max_score, result.score
    assert all(c.message for c in result.checks if not c.passed)


@pytest.mark.slow
def test_fastai_reuse_gets_no_points(course, tmp_path):
    """A Learner that subclasses fastai's earns nothing: the gate names the import, read from the source
    (where fastai is importable in the worker it passes the behaviour checks; where it is not, as for
    submitted code now, the package does not even load)."""
    root = callbacks_submission(tmp_path, (HOSTILE / "fastai_reuse.py").read_text())
    result = grade(course, "callbacks", root, limits=LIMITS)
    gate = next(c for c in result.checks if c.function == "callbacks::test_from_scratch")
    assert not gate.passed and "fastai" in gate.message, gate.message
    assert "from fastai.learner import Learner" in gate.message
    assert result.score == 0, [(c.check_id, c.score) for c in result.checks if c.score]
    assert all("Not counted" in c.message for c in result.checks if c.passed)


def test_solution_scenario_is_bit_equal_to_fastai(course):
    """Equal implementations give bit-equal data on the CPU: the solution's run equals fastai's."""
    import importlib
    import sys

    from grader._seeding import deterministic
    from grader.scenarios import load_scenarios

    exercise = course.exercise("callbacks")
    sys.path.insert(0, str(REPO / "solutions"))
    try:
        solution = importlib.import_module("callbacks")
    finally:
        sys.path.remove(str(REPO / "solutions"))
    with deterministic(11):
        mine = as_data(load_scenarios(exercise).fit_events(solution, seed=11, cancel=("before_step", "step", 2)))
    theirs = ReferencePackage(exercise).scenario("fit_events", seed=11, cancel=("before_step", "step", 2))
    assert mine["trace"] == theirs["trace"] and mine["values"] == theirs["values"]
    assert all((mine["state"][k] == theirs["state"][k]).all() for k in theirs["state"])


def test_cpu_budget_and_module_tripwire(course, tmp_path):
    """A scenario past its CPU budget fails with an explanation; the worker reports fastai imports."""
    solution = (REPO / "solutions" / "callbacks" / "callbacks.py").read_text()
    slow = solution + ("\nimport time as _t\n_fit = Learner.fit\n"
                       "def _slow_fit(self, n):\n    s = _t.process_time()\n"
                       "    while _t.process_time() - s < 5: pass\n    return _fit(self, n)\n"
                       "Learner.fit = _slow_fit\nimport fastcore.basics\n")
    root = callbacks_submission(tmp_path, slow)
    from grader.proxy import StudentPackage
    from grader.sandbox import Sandbox, WorkerCrashed
    from grader.scenarios import scenario_file

    with Sandbox(root, ["callbacks"], LIMITS) as sandbox:
        student = StudentPackage(sandbox, "callbacks", timeout=30, scenarios=scenario_file(course.exercise("callbacks")))
        assert "fastcore.basics" in student.imported_modules()
        student.cpu_budget = 1.5
        with pytest.raises(WorkerCrashed, match="1.5 s of CPU time"):
            student.scenario("fit_events", seed=1, n_epoch=1)
        student.cpu_budget = None
        result = student.scenario("fit_events", seed=1, n_epoch=1, n_train=1, n_valid=1)
        assert result["error"] is None and len(result["trace"]) > 10


def test_indirect_imports_and_forbidden_modules_are_named():
    sources = {"a.py": "import importlib\nm = importlib.import_module('fast' + 'ai')\nexec('1')\n"
                       "import torch\ngetattr(torch, 'n' + 'n')\nimport re\nre.compile('x')\n",
               "b.py": "from fastai.vision.all import *\nimport fastai.learner as L\n"}
    indirect = find_indirect_imports(sources)
    assert any("import importlib" in s for s in indirect) and any("exec" in s for s in indirect)
    assert any("getattr(torch" in s for s in indirect) and not any("compile" in s for s in indirect)
    assert len(find_forbidden_imports(sources, ["fastai"])) == 2
    with pytest.raises(CheckFailed, match="forbidden module fastai.learner was imported"):
        assert_from_scratch([], {}, forbidden_names=[], forbidden_modules=["fastai"],
                            modules_seen=["fastai.learner"])
    assert_from_scratch([], {"ok.py": "import torch\n"}, forbidden_names=[], forbidden_modules=["fastai"],
                        modules_seen=["torch.nn"])


def test_state_dicts_are_data():
    import torch

    state = as_data(torch.nn.Linear(2, 3).state_dict())
    assert type(state) is dict and sorted(state) == ["bias", "weight"]


def test_imported_modules_are_charged_to_the_package_that_imported_them(course, tmp_path):
    """One worker serves all of a student's exercises: a module one package may import (fasttransform
    in `transforms`) must not count against another exercise's from-scratch rule."""
    from grader.proxy import StudentPackage
    from grader.sandbox import Sandbox

    root = callbacks_submission(tmp_path, (REPO / "solutions" / "callbacks" / "callbacks.py").read_text())
    (root / "other").mkdir()
    (root / "other" / "__init__.py").write_text("import fastcore.basics\n\ndef later():\n    import fastcore.xtras\n")
    with Sandbox(root, ["other", "callbacks"], LIMITS) as sandbox:
        other, callbacks = StudentPackage(sandbox, "other", timeout=30), StudentPackage(sandbox, "callbacks", timeout=30)
        other.later()
        assert {"fastcore.basics", "fastcore.xtras"} <= other.imported_modules()
        assert not any(m.startswith("fastcore") for m in callbacks.imported_modules())


def test_a_scenario_file_loaded_from_many_threads_at_once_is_never_seen_half_run(tmp_path):
    """The web app draws its sample cats in a thread pool: every thread gets the finished module."""
    import concurrent.futures
    import sys

    from grader.scenarios import load_course_module, load_scenario_file

    folder = tmp_path / "slow_course"
    folder.mkdir()
    (folder / "scenarios.py").write_text("import time\ntime.sleep(0.3)\nREADY = True\n")
    (folder / "helper.py").write_text("import time\ntime.sleep(0.3)\nREADY = True\n")
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            scenarios = list(pool.map(lambda _: load_scenario_file(folder / "scenarios.py"), range(8)))
            helpers = list(pool.map(lambda _: load_course_module(folder / "helper.py"), range(8)))
        assert all(getattr(m, "READY", False) for m in scenarios + helpers)
        assert len({id(m) for m in scenarios}) == 1 and len({id(m) for m in helpers}) == 1
    finally:
        sys.modules.pop("grader_scenarios_trusted_slow_course", None)
        sys.modules.pop("grader_course_slow_course_helper", None)


def test_a_scenario_file_that_fails_to_run_is_not_kept_half_run(tmp_path):
    import sys

    from grader.scenarios import load_scenario_file

    folder = tmp_path / "broken_course"
    folder.mkdir()
    (folder / "scenarios.py").write_text("raise RuntimeError('broken on purpose')\n")
    with pytest.raises(RuntimeError, match="broken on purpose"):
        load_scenario_file(folder / "scenarios.py")
    assert "grader_scenarios_trusted_broken_course" not in sys.modules
