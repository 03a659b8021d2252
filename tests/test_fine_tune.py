"""The fine_tune capstone on the student's own packages: staging, the scan, and "fix X first".

fine_tune imports the student's callbacks, optimizers, one_cycle, cnn_learner and lr_find
(``depends`` in its exercise.toml). These tests grade real submissions assembled from the
solutions with one part broken, and check who is named in the messages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS, grade
from grader.authoring import mutant_submission
from grader.dependencies import imported_packages
from grader.i18n import Translator
from grader.intake import stage_submission
from grader.scratch import find_outside_imports, read_sources

LIMITS = TEST_LIMITS.replace(call_timeout=60.0, import_timeout=60.0, memory_mb=4096)
DEPENDS = ["callbacks", "optimizers", "one_cycle", "cnn_learner", "lr_find"]


def submission(tmp_path: Path, *, broken: dict[str, str] | None = None, missing: tuple[str, ...] = (),
               fine_tune_source: str | None = None) -> Path:
    """The solutions of fine_tune and its dependencies; ``broken``: dependency -> one of its mutants."""
    root = tmp_path / "submission"
    for name in ["fine_tune", *DEPENDS]:
        if name in missing:
            continue
        shutil.copytree(REPO / "solutions" / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name, mutant in (broken or {}).items():
        module = root / name / f"{name}.py"
        extra = (REPO / "reference" / name / "mutants" / f"{mutant}.py").read_text(encoding="utf-8")
        module.write_text(module.read_text(encoding="utf-8") + "\n\n" + extra, encoding="utf-8")
    if fine_tune_source is not None:
        (root / "fine_tune" / "fine_tune.py").write_text(fine_tune_source, encoding="utf-8")
    return root


def failed_messages(result) -> list[str]:
    return [c.message for c in result.checks if not c.passed and c.max_score]


def test_correct_fine_tune_on_broken_callbacks_says_fix_callbacks_first(course, tmp_path):
    root = submission(tmp_path, broken={"callbacks": "zero_grad_missing"})
    result = grade(course, "fine_tune", root, limits=LIMITS)
    messages = failed_messages(result)
    assert messages, "a Learner that never zeroes its gradients must fail fine_tune's training checks"
    assert all(m.startswith("Fix `callbacks` first") for m in messages), messages
    assert "grade check callbacks" in messages[0]
    assert not any("`optimizers`" in m or "`one_cycle`" in m for m in messages)
    # in German too, the callbacks check quoted in the blame included (its title is callbacks' own)
    translator = Translator("de", course.exercise("fine_tune"))
    german = failed_messages(translator.result(result))
    assert all(m.startswith("Repariere zuerst `callbacks`") for m in german), german
    blame = [line for m in german for line in m.split("\n")[:3]]
    assert not [line for line in blame if line in translator.untranslated], translator.untranslated


def test_missing_dependency_is_named(course, tmp_path):
    root = submission(tmp_path, missing=("one_cycle",))
    result = grade(course, "fine_tune", root, limits=LIMITS)
    messages = failed_messages(result)
    assert result.score == 0 and messages
    assert all("Fix `one_cycle` first" in m and "does not import" in m for m in messages), messages[:2]


def test_a_broken_dependency_that_is_not_imported_is_not_blamed(course, tmp_path):
    """A different route: fine_tune with its own schedule does not answer for the student's one_cycle."""
    source = (REPO / "solutions" / "fine_tune" / "fine_tune.py").read_text(encoding="utf-8")
    source = source.replace("from one_cycle import combined_cos\n", """import math


def combined_cos(pct, start, middle, end):
    def cos(a, b, pos):
        return a + (1 + math.cos(math.pi * (1 - pos))) * (b - a) / 2

    def f(pos):
        if pos < pct:
            return cos(start, middle, pos / pct)
        return cos(middle, end, (pos - pct) / (1 - pct))
    return f
""")
    root = submission(tmp_path, broken={"one_cycle": "cos_backwards"}, fine_tune_source=source)
    result = grade(course, "fine_tune", root, limits=LIMITS)
    assert result.score == result.max_score, failed_messages(result)


def test_mistake_in_fine_tune_itself_blames_nobody(course, tmp_path):
    root = mutant_submission(course.exercise("fine_tune"), REPO / "reference/fine_tune/mutants/no_halving.py")
    try:
        result = grade(course, "fine_tune", root, limits=LIMITS)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    messages = failed_messages(result)
    assert messages and not any(m.startswith("Fix ") for m in messages)
    assert any("base_lr was not halved" in m for m in messages), messages


def test_importing_another_package_than_the_dependencies_breaks_the_rule(course, tmp_path):
    source = (REPO / "solutions" / "fine_tune" / "fine_tune.py").read_text(encoding="utf-8")
    root = submission(tmp_path, fine_tune_source=source + "\nimport conv  # noqa\n")
    shutil.copytree(REPO / "solutions" / "conv", root / "conv")
    result = grade(course, "fine_tune", root, limits=LIMITS)
    gate = next(c for c in result.checks if c.function.endswith("::test_no_fastai"))
    assert not gate.passed and "import conv" in gate.message
    assert result.score == 0


def test_fastai_in_a_dependency_voids_fine_tune(course, tmp_path):
    root = submission(tmp_path)
    path = root / "lr_find" / "lr_find.py"
    path.write_text(path.read_text(encoding="utf-8") + "\nimport fastai.callback.schedule as _unused  # noqa\n",
                    encoding="utf-8")
    result = grade(course, "fine_tune", root, limits=LIMITS)
    gate = next(c for c in result.checks if c.function.endswith("::test_no_fastai"))
    assert not gate.passed and "lr_find (imported by fine_tune)" in gate.message


def test_dependencies_are_not_outside_imports_nor_threats(tmp_path):
    root = submission(tmp_path)
    shutil.copytree(REPO / "solutions" / "conv", root / "conv")
    depends = {"fine_tune": DEPENDS}
    own = read_sources(root / "fine_tune", root, depends=depends)
    assert find_outside_imports(own) == []
    assert imported_packages(own, DEPENDS) == DEPENDS
    # graded in one worker with fine_tune, conv's rule is not voided by fine_tune's imports ...
    conv = read_sources(root / "conv", root, loaded_with=["conv", "fine_tune"], depends=depends)
    assert conv.problems == []
    # ... but without the depends declaration those imports are outside imports, as for any exercise
    assert find_outside_imports(read_sources(root / "fine_tune", root))


def test_batch_intake_stages_the_dependencies(tmp_path):
    root = submission(tmp_path, missing=("lr_find",))
    intake = stage_submission(root, tmp_path / "stage", ["fine_tune"], also=DEPENDS)
    staged = sorted(p.name for p in (tmp_path / "stage").iterdir())
    assert staged == sorted(["fine_tune", *DEPENDS[:-1]])
    assert "lr_find" not in intake.fatal and not intake.notes.get("lr_find")


@pytest.mark.parametrize("mutant", ["freeze_freezes_batchnorm", "momentum_not_cycled", "groups_wrong_order"])
def test_messages_name_the_mistake(course, tmp_path, mutant):
    expected = {"freeze_freezes_batchnorm": "froze the normalisation layers",
                "momentum_not_cycled": "momentum is not scheduled",
                "groups_wrong_order": "wrong order"}[mutant]
    root = mutant_submission(course.exercise("fine_tune"), REPO / f"reference/fine_tune/mutants/{mutant}.py")
    try:
        result = grade(course, "fine_tune", root, limits=LIMITS)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert any(expected in m for m in failed_messages(result)), failed_messages(result)


def test_forged_scenarios_score_zero(course, tmp_path):
    """The stub's API plus a worker patch that answers every scenario with a private, working copy."""
    root = submission(tmp_path)
    package = root / "fine_tune"
    shutil.copy(package / "fine_tune.py", package / "_private.py")
    stub = (REPO / "exercises" / "fine_tune" / "fine_tune.py").read_text(encoding="utf-8")
    shutil.copy(REPO / "tests" / "hostile_trust" / "_forge.py", package / "_forge.py")
    (package / "fine_tune.py").write_text(
        stub + "\n\nfrom . import _forge, _private\n_forge.route_scenarios(__package__, _private)\n", encoding="utf-8")
    result = grade(course, "fine_tune", root, limits=LIMITS)
    assert result.score == 0
    gate = next(c for c in result.checks if c.function.endswith("::test_no_fastai"))
    assert not gate.passed and "Dynamic code" in gate.message


def test_no_training_earns_only_the_schedule(course, tmp_path):
    """An optimizer that never steps reports fastai's schedule exactly; the losses and weights give it away."""
    root = submission(tmp_path)
    path = root / "fine_tune" / "fine_tune.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nGroupOptimizer.step = lambda self: None\n",
                    encoding="utf-8")
    result = grade(course, "fine_tune", root, limits=LIMITS)
    failed = {c.function.split("::")[-1] for c in result.checks if not c.passed}
    assert {"test_fine_tune_training", "test_trained_weights_on_private_images", "test_fit_one_cycle",
            "test_suggested_base_lr"} <= failed
    # what it does do (lr_range, norm_bias_params, freezing, the schedule) is real work: partial credit
    assert result.score <= 0.6 * result.max_score
