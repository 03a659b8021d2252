"""unet and cnn_learner: the models are judged here, on their weights, never on the worker's word.

Every check of both exercises calls the student's ``UNet`` / ``create_*`` through the proxy itself and
judges data this process can verify (weights loaded into a rebuild or into fastai's own pieces,
outputs and gradients on inputs drawn here, a private generator's images the worker never sees).
The hostile submissions in ``tests/hostile_trust/{unet,cnn_learner}/``:

- ``forged_scenario`` (unet and cnn_learner): the stub (``NotImplementedError``) plus a worker patch
  that answers every scenario, old names and new, with plausible forged data, and ``torch.equal`` /
  ``torch.allclose`` that always agree. Expected: 0 on both exercises, because no check reads a
  scenario's report of structure, flags or results on its own: each one first builds the model
  with the student's functions, which raise.
- ``brightness_threshold`` (unet): a "U-Net" that keeps the encoder and thresholds the image's
  brightness. Expected: far below full marks, 6 of 49 points at most: the public checks' 4 (they run in
  the worker on the public discs, bright discs on a dark background, where a threshold segments, and
  only look at the output's shape and that IoU) and the from-scratch rule's 2 (it uses no fastai).
  Every other hidden check rebuilds the published data flow from the model's weights (this one has no
  blocks and no head) and fails.
- ``convlayer_route`` (unet): a correct route, with conv1/conv2 as ``nn.Sequential`` layers that start
  with a Conv2d (fastai's ConvLayer), no BatchNorm on the skip and no last cross: it passes. And the
  mutant ``conv1_misnamed`` (a naming slip) fails only the check that reads conv1.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the hidden checks, imported as the grader imports them

HOSTILE = Path(__file__).resolve().parent / "hostile_trust"
LIMITS = TEST_LIMITS.replace(call_timeout=60.0, import_timeout=60.0, memory_mb=4096)


@pytest.fixture(autouse=True)
def _one_thread():
    """Checks and worker take turns on the cores (as ``grade validate`` and ``grade batch`` run them)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _package(root: Path, exercise: str, base: str | None, hostile: str) -> Path:
    """``root/<exercise>/`` from ``base`` (``solutions``, ``exercises`` or None) plus the hostile file."""
    package = root / exercise
    package.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / exercise / "__init__.py", package / "__init__.py")
    text = (HOSTILE / exercise / f"{hostile}.py").read_text()
    if base is not None:
        text = (REPO / base / exercise / f"{exercise}.py").read_text() + "\n\n" + text
    (package / f"{exercise}.py").write_text(text)
    return root


@pytest.mark.slow
def test_forged_scenarios_score_zero(course, tmp_path):
    """The stubs with every scenario forged: 0 points on unet and cnn_learner, every check failed."""
    from grader.runner import run_many
    from grader.sandbox import Sandbox

    for exercise in ("unet", "cnn_learner"):
        _package(tmp_path, exercise, "exercises", "forged_scenario")
    with Sandbox(tmp_path, ["unet", "cnn_learner"], LIMITS) as sandbox:
        results = run_many([course.exercise("unet"), course.exercise("cnn_learner")], sandbox, tmp_path, hidden=True)
    for result in results:
        assert result.score == 0, (result.exercise, [(c.check_id, c.message) for c in result.checks if c.score])
        assert not [c.check_id for c in result.checks if c.passed and "gate" not in c.check_id]
        assert all(c.message for c in result.checks if not c.passed)


@pytest.mark.slow
def test_brightness_threshold_is_no_unet(course, tmp_path):
    """A brightness threshold in a UNet's clothes earns only the public checks' and the rule's points."""
    from grader.runner import run_checks
    from grader.sandbox import Sandbox

    root = _package(tmp_path, "unet", None, "brightness_threshold")
    with Sandbox(root, ["unet"], LIMITS) as sandbox:
        result = run_checks(course.exercise("unet"), sandbox, root, hidden=True)
    hidden = [c for c in result.checks if c.visibility != "visible" and c.function != "unet::test_from_scratch"]
    assert hidden and not [c.check_id for c in hidden if c.passed]
    assert result.score <= 6 < result.max_score / 8, result.score
    rebuilt = next(c for c in hidden if c.function == "unet::test_shape_like_dynamic_unet")
    assert "has no `blocks`, which the data flow" in rebuilt.message, rebuilt.message


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["conv1_misnamed", "convlayer_route"])
def test_unet_structure_facts_are_read_one_by_one(course, tmp_path, variant):
    """A naming slip on conv1 fails the conv1 check alone; fastai's ConvLayer shape of conv1/conv2 (and the
    other free choices of convlayer_route) passes the structure, pairing, gradient and encoder checks."""
    import torch

    from grader.authoring import mutant_submission
    from grader.proxy import StudentPackage
    from grader.sandbox import Sandbox
    from grader.scenarios import scenario_file
    from grader.testing import CheckFailed
    from reference.unet import test_hidden as H

    exercise = course.exercise("unet")
    if variant == "convlayer_route":
        root = _package(tmp_path, "unet", "solutions", variant)
    else:
        root = mutant_submission(exercise, next(m for m in exercise.mutants if m.stem == variant))
    cpu = torch.device("cpu")
    with Sandbox(root, ["unet"], LIMITS) as sandbox:
        student = StudentPackage(sandbox, "unet", timeout=60, scenarios=scenario_file(exercise))
        passing = [lambda: H.test_skips_paired_deepest_first(student, cpu, "ENCODER_C"),
                   lambda: H.test_skips_paired_deepest_first(student, cpu, "ENCODER_B"),
                   lambda: H.test_building_leaves_encoder_alone(student, cpu),
                   lambda: H.test_both_convolutions_run(student, cpu),
                   lambda: H.test_skips_carry_gradient(student, cpu, "ENCODER_A"),
                   lambda: H.test_shape_like_dynamic_unet(student, cpu, 7)]
        for check in passing:
            check()
        if variant == "conv1_misnamed":
            with pytest.raises(CheckFailed, match=r"blocks\.0\.conv1 has no weights"):
                H.test_decoder_concatenates_skips(student, cpu, "ENCODER_A")
        else:
            H.test_decoder_concatenates_skips(student, cpu, "ENCODER_C")
            H.test_decoder_concatenates_skips(student, cpu, "ENCODER_B")
    if root != tmp_path:
        shutil.rmtree(root, ignore_errors=True)
