"""Shared draws (grader/draws.py): one reference answer per batch, never a weaker check.

In ``grade batch`` and ``grade validate`` every submission gets the same seeds for the same check,
from a secret of the run, so the trusted process computes each of the reference's answers once.
These tests pin what that may and may not change: draws repeat only within one run and one check,
the memo hands out copies, and a real grading of the same exercise twice reuses the answers and
gives the same score.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from conftest import REPO, TEST_LIMITS
from grader import draws, scratch
from grader.proxy import StudentPackage
from grader.sandbox import StudentTimeout
from grader.scenarios import fresh_seed


def _seeds(check: str, n: int = 3) -> list[int]:
    draws.begin_check(check)
    return [fresh_seed() for _ in range(n)]


def test_draws_repeat_within_a_run_and_check_only():
    with draws.sharing(b"batch one"):
        first = _seeds("conv::test_bias")
        again = _seeds("conv::test_bias")
        other = _seeds("conv::test_stride")
    with draws.sharing(b"batch two"):
        next_batch = _seeds("conv::test_bias")
    assert first == again  # the next student of the batch gets the same seeds for the same check
    assert len(set(first)) == 3  # but every draw of a check is a different seed
    assert set(first).isdisjoint(other)
    assert set(first).isdisjoint(next_batch)  # a new run, a new secret: nothing learnt carries over
    assert all(1 <= s < 2**31 for s in first + other + next_batch)


def test_fresh_draws_outside_a_run():
    assert draws.draw() is None
    assert len({fresh_seed() for _ in range(20)}) == 20  # grade check draws anew every time


def test_memo_computes_once_and_hands_out_copies():
    calls = []

    def compute():
        calls.append(1)
        return {"state": torch.ones(3), "losses": [1.0, 2.0]}

    with draws.sharing():
        key = draws.MEMO.key("scenario", "x", [torch.arange(4)], {"steps": 3}, 7)
        first = draws.MEMO.get_or_compute(key, compute)
        first["state"].add_(5)  # a check that changes what it got ...
        first["losses"].append(99.0)
        second = draws.MEMO.get_or_compute(key, compute)
        other = draws.MEMO.get_or_compute(draws.MEMO.key("scenario", "x", [torch.arange(4)], {"steps": 4}, 7),
                                          compute)
    assert len(calls) == 2  # the same key once; other arguments are another answer
    assert torch.equal(second["state"], torch.ones(3)) and second["losses"] == [1.0, 2.0]  # ... changes no one else's
    assert other["losses"] == [1.0, 2.0]
    draws.MEMO.get_or_compute(draws.MEMO.key("scenario", "x"), compute)  # outside a run: no memo at all
    assert len(calls) == 3 and draws.MEMO.key("anything") is None


def test_memo_keys_only_data():
    with draws.sharing():
        assert draws.MEMO.key("scenario", object()) is None  # not data: computed every time, never confused
        assert draws.MEMO.key("a", torch.zeros(2)) != draws.MEMO.key("a", torch.zeros(3))
        assert draws.MEMO.key("a", torch.zeros(2)) != draws.MEMO.key("a", torch.zeros(2, dtype=torch.float64))


def test_memo_is_bounded():
    memo = draws.ReferenceMemo(max_bytes=4 * 4096)
    with draws.sharing():
        for i in range(10):
            memo.get_or_compute(memo.key("big", i), lambda: torch.zeros(1024))  # 4 KiB each
    assert len(memo._items) <= 4


class _FakeSandbox:
    """Counts the scenario requests a StudentPackage sends; answers like a worker would."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.error = error

    def call_with_ops(self, op, **request):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return {"state": {"w": torch.ones(2)}, "seed": request["extra"]["seed"]}, []


def test_scenario_once_trains_once_per_session(tmp_path):
    scenarios = tmp_path / "scenarios.py"
    scenarios.write_text("def train(impl, *, seed):\n    return {}\n")
    sandbox = _FakeSandbox()
    student = StudentPackage(sandbox, "keypoints", scenarios=scenarios)  # type: ignore[arg-type]
    first = student.scenario_once("train", device="cpu")
    first["state"]["w"].zero_()
    second = student.scenario_once("train", device="cpu")
    assert sandbox.calls == 1 and torch.equal(second["state"]["w"], torch.ones(2))
    student.scenario_once("train", device="meta")
    assert sandbox.calls == 2  # other arguments: another training

    failing = _FakeSandbox(StudentTimeout("train did not finish within 60 s"))
    student = StudentPackage(failing, "keypoints", scenarios=scenarios)  # type: ignore[arg-type]
    for _ in range(2):  # the second check gets the same explained failure, without another 60 s
        with pytest.raises(StudentTimeout):
            student.scenario_once("train", device="cpu")
    assert failing.calls == 1


def test_sibling_packages_are_read_once_per_session(tmp_path, monkeypatch):
    for name in ("conv", "pooling", "resnet"):
        shutil.copytree(REPO / "solutions" / name, tmp_path / name)
    (tmp_path / "resnet" / "evil.py").write_text("import conv\nconv.conv2d = None\n")
    seen = []
    real = scratch._threat_from
    monkeypatch.setattr(scratch, "_threat_from", lambda other: seen.append(other.package) or real(other))
    threats: dict[str, list[str]] = {}
    names = ["conv", "pooling", "resnet"]
    found = {n: scratch.read_sources(tmp_path / n, tmp_path, loaded_with=names, threats=threats) for n in names}
    assert sorted(seen) == ["conv", "pooling", "resnet"]  # each sibling judged once, not once per exercise
    assert any("resnet/" in p for p in found["conv"].problems)  # and the verdict still reaches every exercise
    assert any("resnet/" in p for p in found["pooling"].problems)
    assert not any("resnet/" in p for p in found["resnet"].problems)


@pytest.mark.slow
def test_grading_twice_in_a_run_reuses_the_reference(course, tmp_path):
    """The callbacks solution and stub, graded in one run: fastai's Learner runs once per check."""
    from grader.runner import run_checks
    from grader.sandbox import Sandbox

    exercise = course.exercise("callbacks")
    only = {"callbacks::test_normal_fit_events", "callbacks::test_training_matches_fastai"}
    limits = TEST_LIMITS.replace(call_timeout=30.0, import_timeout=60.0, memory_mb=4096)
    solution = REPO / "solutions"
    scores = []
    with draws.sharing():
        hits = draws.MEMO.hits
        for root in (solution, solution, exercise.stub.parent):
            with Sandbox(root, ["callbacks"], limits) as sandbox:
                result = run_checks(exercise, sandbox, Path(root), hidden=True, only=only)
            scores.append((result.score, result.max_score))
        reused = draws.MEMO.hits - hits
    assert scores[0] == scores[1] == (scores[0][1], scores[0][1])  # full marks both times
    assert scores[2][0] == 0  # the stub is compared with the same answers and earns nothing
    assert reused >= 2  # the second solution: each check's reference answer reused (the stub fails first)
