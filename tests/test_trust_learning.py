"""learner, transforms, callbacks: no verdict rests on what the worker says about itself.

The worker can report any class hierarchy, module list or op record, and can answer any scenario.
So the from-scratch gate reads the submission's source here, resolving what it names against the
libraries of this process (``reference/learner/lineage.py``), and the worker's records are only
extra evidence. The hostile submissions in ``tests/hostile_trust/{learner,transforms,callbacks}/``:

- ``*_in_disguise`` / ``hidden_fastai``: torch's, fasttransform's or fastai's own classes reached
  without their names, the worker's reports (class bases, lineage, ops, imported modules) forged
  to look home-made. They pass the value checks; the gate must void every point.
- ``forged_scenarios``: the stub's API (NotImplementedError) plus a worker patch that answers every
  scenario with a private implementation on the forbidden library. Expected: 0 points.
- ``fit_logs_epoch``: a correct learner whose ``fit`` dicts also carry fastai's ``epoch`` key: full marks.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the hidden checks' rule sets, imported as the grader imports them

from reference.learner.lineage import find_borrowed  # noqa: E402
from reference.learner.reference import BUILT_FROM_SCRATCH as LEARNER  # noqa: E402
from reference.transforms.reference import BUILT_FROM_SCRATCH as TRANSFORMS  # noqa: E402

HOSTILE = Path(__file__).resolve().parent / "hostile_trust"
LIMITS = TEST_LIMITS.replace(call_timeout=30.0, import_timeout=60.0, memory_mb=4096)

#: student -> {exercise: (base module: "solutions", "exercises" or None, hostile file, private helper or None)}
STUDENTS = {
    "disguised": {"learner": ("solutions", "torch_in_disguise", None),
                  "transforms": ("solutions", "fasttransform_in_disguise", None),
                  "callbacks": (None, "hidden_fastai", None)},
    "forged": {"learner": ("exercises", "forged_scenarios", "_private_torch"),
               "transforms": ("exercises", "forged_scenarios", "_private_fastai")},
}
#: what the gate's message must name, per (student, exercise)
NAMED = {("disguised", "learner"): ["class Module is built on torch.nn.modules.module.Module",
                                    "x.log_softmax is the forbidden method log_softmax",
                                    "torch._C._nn.cross_entropy_loss"],
         ("disguised", "transforms"): ["class Pipeline is built on fasttransform.transform.Pipeline"],
         ("disguised", "callbacks"): ["import_module"],
         ("forged", "learner"): ["torch.nn.functional.cross_entropy", "_private.py"],
         ("forged", "transforms"): ["fasttransform.transform.Pipeline", "_private.py"]}


def _package(root: Path, exercise: str, base: str | None, hostile: str, private: str | None) -> None:
    package = root / exercise
    package.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / exercise / "__init__.py", package / "__init__.py")
    text = (HOSTILE / exercise / f"{hostile}.py").read_text()
    if base is not None:
        text = (REPO / base / exercise / f"{exercise}.py").read_text() + "\n\n" + text
    (package / f"{exercise}.py").write_text(text)
    if private is not None:
        shutil.copy(HOSTILE / exercise / f"{private}.py", package / "_private.py")


def _grade(course, root: Path, cases: dict[str, tuple]) -> dict:
    from grader.runner import run_many
    from grader.sandbox import Sandbox

    for exercise, case in cases.items():
        _package(root, exercise, *case)
    with Sandbox(root, list(cases), LIMITS) as sandbox:
        results = run_many([course.exercise(name) for name in cases], sandbox, root, hidden=True)
    return {r.exercise: r for r in results}


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_forged_reports_and_scenarios_score_zero(course, tmp_path, student):
    results = _grade(course, tmp_path, STUDENTS[student])
    for exercise, result in results.items():
        gate = [c for c in result.checks if c.function == f"{exercise}::test_from_scratch"]
        assert len(gate) == 1 and not gate[0].passed, (student, exercise, [(c.check_id, c.passed) for c in
                                                                           result.checks])
        for fragment in NAMED[(student, exercise)]:
            assert fragment in gate[0].message, (student, exercise, fragment, gate[0].message)
        assert result.score == 0, (student, exercise, [(c.check_id, c.score) for c in result.checks if c.score])
        if student == "disguised" and exercise != "callbacks":
            # the value checks pass: only the gate, read from the source, voids them (callbacks' disguise
            # needs fastai, which submitted code cannot import at all: its package does not even load)
            passed = [c for c in result.checks if c.passed]
            assert len(passed) >= len(result.checks) // 2, (exercise, [(c.check_id, c.message[:200]) for c in
                                                                      result.checks if not c.passed])
            assert all("Not counted" in c.message for c in passed if c.max_score)


@pytest.mark.slow
def test_fit_dicts_with_an_epoch_key_lose_nothing(course, tmp_path):
    """fastai's Recorder logs `epoch`: more keys than the three required cost no check."""
    result = _grade(course, tmp_path, {"learner": ("solutions", "fit_logs_epoch", None)})["learner"]
    assert result.score == result.max_score, [(c.check_id, c.message) for c in result.checks if not c.passed]


# -- the source rule itself, on small sources (no worker) ---------------------------------------------
@pytest.mark.parametrize("source, named", [
    ("import torch\nclass Module(torch.nn.Identity.__base__):\n    pass\n", "class Module is built on torch.nn"),
    ("import torch\n_B = torch.nn.ReLU\nclass Module(_B):\n    pass\n", "class Module is built on torch.nn"),
    ("from torch.nn import Identity as Module\n", "class Module is built on torch.nn"),
    ("import torch\nModule = type('Module', (torch.nn.ReLU,), {})\n", "class Module is built on torch.nn"),
    ("import torch\nclass Module(type(torch.nn.ReLU())):\n    pass\n", "computed at run time"),
    ("import torch\nclass Module(metaclass=type(torch.nn.ReLU)):\n    pass\n", "metaclass"),
    ("import torch\nclass Linear(torch.nn.LazyLinear.__mro__[2]):\n    pass\n", "class Linear is built on"),
    ("import torch\nclass Linear:\n    def __init__(self, a, b):\n        self.m = torch.nn.LazyLinear(b)\n",
     "torch.nn.LazyLinear is built on torch.nn.modules.linear.Linear"),
    ("import torch\ndef log_softmax(x, dim=-1):\n    return x.log_softmax(dim)\n", "forbidden method log_softmax"),
    ("import torch\ndef ce(a, b):\n    return torch._C._nn.cross_entropy_loss(a, b, None, 1, -100, 0.0)\n",
     "torch._C._nn.cross_entropy_loss is forbidden here"),
    ("import torch.utils\nS = torch.utils.data.sampler.RandomSampler\n", "torch.utils.data.sampler.RandomSampler"),
    ("import torch\ndef f():\n    global Module\n    Module = torch.nn.Identity\n", "`global Module`"),
])
def test_the_source_rule_finds_torch_however_it_is_named(source, named):
    found = find_borrowed({"learner.py": source}, **LEARNER)
    assert any(named in f for f in found), found


@pytest.mark.parametrize("source, named", [
    ("from fasttransform import Transform\nclass Pipeline(Transform.__init__.__globals__['Pipe' 'line']):\n"
     "    pass\n", "class Pipeline is built on fasttransform.transform.Pipeline"),
    ("from fasttransform import transform as T\nP = T.Pipeline\nclass Pipeline(P):\n    pass\n",
     "class Pipeline is built on fasttransform.transform.Pipeline"),
    ("import fasttransform.transform as T\n\nclass Pipeline:\n    def __call__(self, x):\n"
     "        return vars(T)['compose_tfms'](x, self.fs)\n", "(vars)"),
])
def test_the_source_rule_finds_fasttransform_however_it_is_named(source, named):
    found = find_borrowed({"transforms.py": source}, **TRANSFORMS)
    assert any(named in f for f in found), found


def test_correct_routes_pass_the_source_rule():
    """The solutions, and home-made classes on plain Python, typing and fastcore, are not flagged."""
    for name, rules in (("learner", LEARNER), ("transforms", TRANSFORMS)):
        sources = {p.name: p.read_text() for p in (REPO / "solutions" / name).glob("*.py")}
        assert find_borrowed(sources, **rules) == [], name
    learner = ("import math, typing\nfrom dataclasses import dataclass\nimport torch\nfrom torch import nn\n"
               "T = typing.TypeVar('T')\n\n@dataclass\nclass Dataset(typing.Generic[T]):\n    x: torch.Tensor\n\n"
               "class Parameter(torch.Tensor):\n    __torch_function__ = torch._C._disabled_torch_function_impl\n"
               "    def __repr__(self):\n        return torch.Tensor.__repr__(self.detach())\n\n"
               "class Module:\n    def parameters(self):\n        return [v for v in self.__dict__.values()]\n\n"
               "class Linear(Module):\n    pass\n\nBase = Module\n\nclass Sequential(Base):\n"
               "    def __init__(self, *layers, act=nn.ReLU()):\n        self.layers = list(layers)\n\n"
               "def relu_model():\n    return Sequential(Linear(), torch.relu, nn.ReLU())\n")
    assert find_borrowed({"learner.py": learner}, **LEARNER) == []
    transforms = ("from fastcore.foundation import L\nfrom fasttransform import Transform\n\n"
                  "class Pipeline:\n    def __init__(self, fs):\n        self.fs = L(fs)\n\n"
                  "class TfmdLists(L):\n    pass\n\nclass Categorize(Transform):\n    order = 1\n")
    assert find_borrowed({"transforms.py": transforms}, **TRANSFORMS) == []


def test_callbacks_reference_ignores_what_other_exercises_add_to_fastais_defaults():
    """Grading lr_find or one_cycle in the same process imports fastai.callback.schedule, which appends
    ProgressCallback to fastai's global default callbacks; the callbacks reference must not expect its
    events from the student (a correct solution scored 4/25 in a batch with lr_find)."""
    import torch
    from fastai.callback import schedule  # noqa: F401  (what the lr_find and one_cycle references import)
    from fastai.callback.progress import ProgressCallback
    from fastai.learner import defaults

    from reference.callbacks.implementation import Learner

    assert ProgressCallback in defaults.callbacks
    model = torch.nn.Linear(2, 1)
    learn = Learner(model, None, torch.nn.functional.mse_loss, torch.optim.SGD)
    assert sorted(type(cb).__name__ for cb in learn.cbs) == ["CastToTensor", "TrainEvalCallback"]
