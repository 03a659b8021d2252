"""A real `grade batch` on a known mix of conv submissions: the report must tell exactly that mix.

The class: the course's solution, three independent correct implementations (hand-written in
tests/similarity_cases/), two of them carrying a known mistake each (a flipped kernel, a bias
never added), and a disguised copy of one of them (variables renamed, functions reordered,
comments rewritten). The report's known mistakes must count one student each, with the mistake
the checks name, and its copy section must list the one copied pair and no other.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO
from test_similarity import disguise, module

GRADE = [sys.executable, "-m", "grader.cli", "--course", str(REPO), "batch"]

#: A known mistake made on purpose: the student's conv2d wrapped so that it makes it.
FLIPPED = ("\n\n_correct_conv2d = conv2d\n\n\ndef conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):\n"
           "    return _correct_conv2d(x, weight.flip(-2, -1), bias, stride, padding, dilation)\n")
NO_BIAS = ("\n\n_correct_conv2d = conv2d\n\n\ndef conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):\n"
           "    return _correct_conv2d(x, weight, None, stride, padding, dilation)\n")


class _Rows(HTMLParser):
    """The text of every table row with a given class (``tr.mistake``) and of every pairs-table row."""

    def __init__(self) -> None:
        super().__init__()
        self.mistakes: list[list[str]] = []
        self.pairs: list[list[str]] = []
        self._row: list[str] | None = None
        self._kind = ""
        self._table = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("class") or ""
        elif tag == "tr":
            self._kind = "mistake" if attrs.get("class") == "mistake" else ("pair" if self._table == "pairs" else "")
            self._row = [] if self._kind else None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_data(self, data):
        if self._row is not None and self._row:
            self._row[-1] += data

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            if self._kind == "mistake":
                self.mistakes.append([c.strip() for c in self._row])
            elif self._row and not any(c.strip() in ("Exercise", "Aufgabe") for c in self._row[:1]):
                self.pairs.append([c.strip() for c in self._row])
            self._row = None
        elif tag == "table":
            self._table = ""


def _student(root: Path, name: str, source: str) -> None:
    package = root / name / "conv"
    package.mkdir(parents=True)
    (package / "__init__.py").write_bytes((REPO / "solutions" / "conv" / "__init__.py").read_bytes())
    (package / "conv.py").write_text(source, encoding="utf-8")


@pytest.mark.slow
def test_report_counts_the_mistakes_of_the_mix_and_flags_exactly_the_copy(tmp_path):
    subs = tmp_path / "submissions"
    loops = module("conv", "conv_loops")
    _student(subs, "ana", module("conv", "solution"))
    _student(subs, "bo", loops)
    _student(subs, "cem", module("conv", "conv_strided_einsum") + FLIPPED)
    _student(subs, "dana", module("conv", "conv_tensor_unfold") + NO_BIAS)
    _student(subs, "eli", disguise(loops, seed=7))  # eli copied bo's work and hid it
    out = tmp_path / "out"
    proc = subprocess.run([*GRADE, str(subs), "--out", str(out), "--exercise", "conv", "--backend", "local",
                           "--jobs", "2", "--lang", "en"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    import json

    scores = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    full = scores["ana"]["max_score"]
    assert {s: d["score"] == full for s, d in scores.items()} == {
        "ana": True, "bo": True, "cem": False, "dana": False, "eli": True}, {s: d["score"] for s, d in scores.items()}

    rows = _Rows()
    rows.feed((out / "report.html").read_text(encoding="utf-8"))
    mistakes = {row[1]: int(row[4]) for row in rows.mistakes}  # hint -> students who made it
    flipped = [h for h in mistakes if "kernel is flipped" in h]
    no_bias = [h for h in mistakes if "bias is not added" in h]
    assert len(flipped) == 1 and len(no_bias) == 1, mistakes
    assert mistakes[flipped[0]] == 1 and mistakes[no_bias[0]] == 1, mistakes
    assert sum(mistakes.values()) == 2, f"only the two planted mistakes are named: {mistakes}"

    pairs = {frozenset(re.split(r"\s*↔\s*", row[1])) for row in rows.pairs}
    assert pairs == {frozenset({"bo", "eli"})}, rows.pairs
