"""keypoints, resnet, siamese: models are judged in the trusted process, never on the worker's word.

Each submission in tests/hostile_trust/<exercise>/ is appended to the stub or the solution (its
docstring says which, and what it must score). The forgeries replace the worker's scenario runner
at import, so that every public scenario (the trainings included) runs with a private, correct copy
of the solution (``_private.py`` in the package): the data they return is correct and freshly
computed, only the package's own API did not do the work. One student folder holds all three
packages: one worker, one pytest session per student.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from conftest import REPO, TEST_LIMITS
from grader.proxy import StudentPackage
from grader.runner import run_many
from grader.sandbox import Sandbox
from grader.scenarios import scenario_file

HOSTILE = Path(__file__).resolve().parent / "hostile_trust"
LIMITS = TEST_LIMITS.replace(call_timeout=30.0)
EXERCISES = ("keypoints", "resnet", "siamese")

#: student -> {exercise: (what the hostile file is appended to, hostile file)}
STUDENTS = {
    "no_work": {name: ("exercises", "forged_scenarios") for name in EXERCISES},
    "partial": {"keypoints": ("solutions", "pupil_centroid"), "resnet": ("solutions", "structure_only_forged"),
                "siamese": ("solutions", "wrong_pairs_forged_training")},
}

#: checks that must fail for the "partial" students (their pieces did not earn them)
MUST_FAIL = {
    "keypoints": ["test_thug_cat", "test_trained_model_on_new_kinds_of_faces", "test_model_sigmoid_range_head",
                  "test_model_y_range", "test_model_n_points", "test_model_float64"],
    "resnet": ["test_block_gradients", "test_training", "test_block_forward", "test_zero_last_bn"],
    "siamese": ["test_training_learns_same_or_different", "test_splitter", "test_make_pairs_balanced"],
}
#: the most the "partial" students may earn (what the pieces they really wrote earn, the gate included)
MAX_PARTIAL = {"keypoints": 22, "resnet": 15, "siamese": 20}


def _submission(root: Path, cases: dict[str, tuple[str, str]]) -> Path:
    """One package per exercise: the solution's ``__init__.py``, the stub or solution with the hostile file
    appended, a private copy of the solution as ``_private.py`` and the shared forgery as ``_forge.py``."""
    for exercise, (base, case) in cases.items():
        package = root / exercise
        package.mkdir(parents=True)
        shutil.copy(REPO / "solutions" / exercise / "__init__.py", package / "__init__.py")
        shutil.copy(REPO / "solutions" / exercise / f"{exercise}.py", package / "_private.py")
        shutil.copy(HOSTILE / "_forge.py", package / "_forge.py")
        text = (REPO / base / exercise / f"{exercise}.py").read_text()
        (package / f"{exercise}.py").write_text(text + "\n\n" + (HOSTILE / exercise / f"{case}.py").read_text())
    return root


def _forgery_is_live(course, sandbox: Sandbox, cases: dict[str, tuple[str, str]]) -> None:
    """The forged runner really answers: scenarios return correct data although the API does not do the work."""
    student = {name: StudentPackage(sandbox, name, timeout=30, scenarios=scenario_file(course.exercise(name)))
               for name in EXERCISES}
    if "forged" in cases["keypoints"][1]:
        state = student["keypoints"].scenario("train_keypoints", seed=1, steps=2, n_train=32)["state"]
        assert "head.weight" in state
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    block = student["resnet"].scenario("block_backward", seed=1, ni=4, nf=4, stride=1, state=_resblock_state(), x=x,
                                       grad_out=torch.ones(2, 4, 6, 6, dtype=torch.float64))
    assert block["x_grad"] is not None and block["input_changed"] is False
    grads = student["siamese"].scenario("branch_grads", seed=1, branch=1, dtype="float64")
    assert all(g is not None for g in grads["encoder"])


def _resblock_state() -> dict[str, torch.Tensor]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("resnet_solution_for_test", REPO / "solutions/resnet/resnet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {k: v.double() if v.is_floating_point() else v for k, v in module.ResBlock(4, 4).state_dict().items()}


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_forged_scenarios_earn_only_what_the_api_does(course, tmp_path, student):
    cases = STUDENTS[student]
    root = _submission(tmp_path, cases)
    with Sandbox(root, list(cases), LIMITS) as sandbox:
        results = {r.exercise: r for r in run_many([course.exercise(n) for n in cases], sandbox, root, hidden=True)}
        _forgery_is_live(course, sandbox, cases)
    for name, result in results.items():
        # judged by each check's own outcome: a from-scratch gate may void the points as well (the scan
        # rejects the forgeries' sys.modules lookups), but these checks must fail without its help
        passed = [(c.check_id, c.max_score) for c in result.checks if c.passed]
        assert all(c.message for c in result.checks if not c.passed), name
        if student == "no_work":
            assert not passed and result.score == 0, (name, passed)
            continue
        for function in MUST_FAIL[name]:
            checks = [c for c in result.checks if c.function == f"{name}::{function}"]
            assert checks and not any(c.passed for c in checks), (name, function, [c.message for c in checks])
        assert sum(points for _, points in passed) <= MAX_PARTIAL[name], (name, passed)
        assert result.score <= MAX_PARTIAL[name], (name, result.score)
