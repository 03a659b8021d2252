"""A student hears about an endless loop at import within 30 s (`grade check`); batch keeps its limit."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from conftest import HOSTILE, REPO, make_conv_submission
from grader import sandbox as sandbox_module
from grader._limits import CHECK_IMPORT_TIMEOUT, Limits
from grader.cli import cli


class _Captured(Exception):
    pass


def _limits_of(monkeypatch, *args):
    """The Limits `grade check ARGS` would give its sandbox (the sandbox itself is not started)."""
    seen = {}

    class Spy:
        def __init__(self, root, packages, limits, *a, **k):
            seen["limits"] = limits
            raise _Captured

    monkeypatch.setattr(sandbox_module, "Sandbox", Spy)
    with pytest.raises(_Captured):
        CliRunner().invoke(cli, ["--course", str(REPO), "check", *args], catch_exceptions=False)
    return seen["limits"]


def test_check_waits_25_s_for_an_import_and_timeout_raises_it(monkeypatch):
    assert CHECK_IMPORT_TIMEOUT == 25
    assert _limits_of(monkeypatch, "conv").import_timeout == 25
    raised = _limits_of(monkeypatch, "conv", "--timeout", "90")
    assert raised.import_timeout == 90 and raised.call_timeout == 90
    assert _limits_of(monkeypatch, "conv", "--timeout", "5").import_timeout == 25  # never below 25 s
    assert Limits().import_timeout == 120  # batch grading's own, documented limit


@pytest.mark.slow
def test_endless_loop_at_import_is_explained_within_30_s(tmp_path):
    root = make_conv_submission(tmp_path, HOSTILE / "loop_at_import.py")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--course", str(REPO), "check", "conv", "--submission", str(root), "--json"],
                                catch_exceptions=False)
    elapsed = time.monotonic() - started
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["score"] == 0
    assert all("did not finish within 25 s (an endless loop at import time?)" in t["output"] for t in data["tests"])
    assert elapsed < 30, f"the student waited {elapsed:.0f} s"
