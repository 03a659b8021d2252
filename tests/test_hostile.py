"""Hostile and broken submissions end in a recorded, explained result, never a crash or a pass.

Each case in tests/hostile/ is graded with the public and hidden checks of `conv`.
"""

from __future__ import annotations

import os
import time

import pytest

from conftest import HOSTILE, grade, make_conv_submission

#: case -> words that the explanation of (at least one) failed check must contain
EXPECTED = {
    "patched_allclose": "is expected",
    "always_equal": "plain torch.Tensor",
    "tensor_subclass": "plain torch.Tensor",
    "os_exit_in_call": "exited with status 3",
    "sys_exit_at_import": "sys.exit(0) while being imported",
    "loop_at_import": "did not finish within",
    "loop_in_call": "did not finish within",
    "memory_hog": "memory",
    "output_flood": "File too large",
    "syntax_error": "SyntaxError",
    "fork_and_linger": "is expected",
    "reads_hidden_checks": "is expected",
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_hostile_submission_gets_explained_non_full_result(course, tmp_path, case):
    root = make_conv_submission(tmp_path, HOSTILE / f"{case}.py")
    started = time.monotonic()
    result = grade(course, "conv", root)
    assert result.checks, "every check must still be reported"
    assert result.score < result.max_score
    value_checks = [c for c in result.checks if c.function != "conv::test_from_scratch"]
    assert all(not c.passed for c in value_checks), [c.check_id for c in value_checks if c.passed]
    messages = "\n".join(c.message + c.output for c in result.checks)
    assert EXPECTED[case].lower() in messages.lower(), messages[:2000]
    assert all(c.message for c in result.checks if not c.passed), "every failure is explained"
    assert time.monotonic() - started < 120


def test_patched_allclose_scores_zero(course, tmp_path):
    """The acceptance case: patching torch.allclose and returning zeros gets 0 on every check."""
    root = make_conv_submission(tmp_path, HOSTILE / "patched_allclose.py")
    assert grade(course, "conv", root).score == 0


def test_correct_implementation_by_another_route_gets_full_marks(course, tmp_path):
    root = make_conv_submission(tmp_path, HOSTILE / "correct_loops.py")
    result = grade(course, "conv", root)
    assert result.score == result.max_score, [(c.check_id, c.message) for c in result.checks if not c.passed]


def test_output_is_captured_and_truncated(course, tmp_path):
    root = make_conv_submission(tmp_path, HOSTILE / "reads_hidden_checks.py")
    result = grade(course, "conv", root)
    outputs = [c.output for c in result.checks if c.output]
    assert outputs and all("found:" in o for o in outputs)
    flood = grade(course, "conv", make_conv_submission(tmp_path / "flood", HOSTILE / "output_flood.py"))
    assert all(len(c.output) < 11_000 for c in flood.checks)
    assert any("more bytes of output not shown" in c.output for c in flood.checks)


def test_forked_children_do_not_survive_the_sandbox(course, tmp_path):
    root = make_conv_submission(tmp_path, HOSTILE / "fork_and_linger.py")
    grade(course, "conv", root)
    time.sleep(0.5)
    lingering = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"grader._worker" in cmdline and str(root).encode() in cmdline:
            lingering.append(pid)
    assert not lingering
