"""lr_find, one_cycle, optimizers and basics: no check takes the worker's word, every from-scratch rule is a gate.

Each submission in tests/hostile_trust/<exercise>/ is a file appended to the exercise's solution
(later definitions win, as with mutants):

- "reuse": lr_find's suggestions forward to fastai's valley/minimum/steep, every one_cycle schedule
  to fastai.callback.schedule, basics' matmul to torch.matmul. Each is right in every value check;
  the from-scratch gate must void all points and name what was used.
- "forged": lr_find never saves or restores the trainer's state and then rewrites the trainer's
  record of calls (which lives in the worker) to show the right order; optimizers' zero_grad
  zeroes the gradients for whoever looks right after it and step() adds them back. The checks
  judge values compared with the trusted run (a second lr_find on the same trainer; the next SGD
  step), so they fail, while the rest of each submission still earns its points. (Forging the
  worker itself needs dynamic code, which the from-scratch gates of these exercises void anyway.)

One student folder holds all packages of a case: one worker, one pytest session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS
from grader.runner import run_many
from grader.sandbox import Sandbox

HOSTILE = Path(__file__).resolve().parent / "hostile_trust"
#: fastai's schedule module takes seconds to import where a submission imports it
LIMITS = TEST_LIMITS.replace(call_timeout=30.0, import_timeout=60.0, memory_mb=4096)

#: exercise -> (hostile file, what the gate's message must name)
REUSE = {"lr_find": ("fastai_suggestions", "fastai"),
         "one_cycle": ("forwards_to_fastai", "fastai"),
         "basics": ("torch_matmul", "torch.matmul")}

#: exercise -> (hostile file, the check that must fail in every case, checks that must still pass)
FORGED = {"lr_find": ("forged_order", "lr_find::test_save_and_restore", ["lr_find::test_smoothed_losses"]),
          "optimizers": ("stashing_zero_grad", "optimizers::test_zero_grad", ["optimizers::test_stepper"])}


def _submission(root: Path, files: dict[str, str]) -> Path:
    """A student folder with one package per exercise: the solution with the hostile file appended."""
    for exercise, case in files.items():
        package = root / exercise
        shutil.copytree(REPO / "solutions" / exercise, package, ignore=shutil.ignore_patterns("__pycache__"))
        module = package / f"{exercise}.py"
        module.write_text(module.read_text() + "\n\n" + (HOSTILE / exercise / f"{case}.py").read_text())
    return root


def _grade(course, root: Path, exercises: list[str]):
    with Sandbox(root, exercises, LIMITS) as sandbox:
        return run_many([course.exercise(name) for name in exercises], sandbox, root, hidden=True)


@pytest.mark.slow
def test_reused_library_scores_zero(course, tmp_path):
    root = _submission(tmp_path, {exercise: case for exercise, (case, _) in REUSE.items()})
    for result in _grade(course, root, list(REUSE)):
        case, named = REUSE[result.exercise]
        gate = [c for c in result.checks if c.function == f"{result.exercise}::test_from_scratch"]
        assert len(gate) == 1 and not gate[0].passed, (case, [(c.check_id, c.passed) for c in result.checks])
        assert named in gate[0].message, (case, gate[0].message)
        assert result.score == 0, (case, [(c.check_id, c.score) for c in result.checks if c.score])


@pytest.mark.slow
def test_forged_records_do_not_pass(course, tmp_path):
    root = _submission(tmp_path, {exercise: case for exercise, (case, _, _) in FORGED.items()})
    for result in _grade(course, root, list(FORGED)):
        case, judged, still_right = FORGED[result.exercise]
        gate = [c for c in result.checks if c.function == f"{result.exercise}::test_from_scratch"]
        assert gate and all(c.passed for c in gate), (case, [c.message for c in gate])
        by_function: dict[str, list] = {}
        for check in result.checks:  # the hidden checks (a public check may read the forged record)
            if check.visibility == "after_published":
                by_function.setdefault(check.function, []).append(check)
        assert by_function[judged] and all(not c.passed for c in by_function[judged]), \
            (case, [(c.check_id, c.message) for c in by_function[judged] if c.passed])
        for function in still_right:  # the rest of the submission is right, and graded as such
            assert all(c.passed for c in by_function[function]), (case, function)
        assert 0 < result.score < result.max_score, (case, result.score)
