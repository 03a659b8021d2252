"""From-scratch gates of conv, batchnorm and pooling: torch's own implementation earns nothing.

Each submission in tests/hostile_trust/<exercise>/ is right in (nearly) every value check,
because it is, or wraps, the built-in the exercise asks the student to write. The gate must void
all its points with a message that names what was used, whatever the worker's own records say
(the "disguised" cases run the built-in outside the worker's aten-op record, so only the source
scan sees them). One student folder holds all three packages: one worker, one pytest session.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS
from grader.runner import run_many
from grader.sandbox import Sandbox

HOSTILE = Path(__file__).resolve().parent / "hostile_trust"
#: batchnorm's gradient scenario imports torch._inductor on its first run in a worker (seconds)
LIMITS = TEST_LIMITS.replace(call_timeout=30.0)

#: student -> {exercise: (hostile file, what the gate's message must name)}
STUDENTS = {
    "plain": {"conv": ("forwards_f_conv2d", "F.conv2d"),
              "batchnorm": ("subclasses_nn_batchnorm", "nn.BatchNorm2d"),
              "pooling": ("forwards_torch_pooling", "F.max_pool2d")},
    "disguised": {"conv": ("conv3d_one_deep", "torch.conv3d"),
                  "batchnorm": ("wraps_batchnorm_module", "torch.ops.aten._native_batch_norm_legit"),
                  "pooling": ("aten_pooling_unrecorded", "torch.max_pool3d")},
}


def _submission(root: Path, files: dict[str, str]) -> Path:
    """A student folder with one package per exercise: the solution's ``__init__.py``, the hostile module."""
    for exercise, case in files.items():
        package = root / exercise
        package.mkdir(parents=True)
        shutil.copy(REPO / "solutions" / exercise / "__init__.py", package / "__init__.py")
        shutil.copy(HOSTILE / exercise / f"{case}.py", package / f"{exercise}.py")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_builtin_in_disguise_scores_zero(course, tmp_path, student):
    cases = STUDENTS[student]
    root = _submission(tmp_path, {exercise: case for exercise, (case, _) in cases.items()})
    exercises = [course.exercise(name) for name in cases]
    with Sandbox(root, list(cases), LIMITS) as sandbox:
        results = run_many(exercises, sandbox, root, hidden=True)
    for result in results:
        case, named = cases[result.exercise]
        gate = [c for c in result.checks if c.function == f"{result.exercise}::test_from_scratch"]
        assert len(gate) == 1 and not gate[0].passed, (case, [(c.check_id, c.passed) for c in result.checks])
        assert named in gate[0].message, (case, gate[0].message)
        others = [c for c in result.checks if c is not gate[0]]
        assert sum(c.passed for c in others) >= len(others) * 3 // 4, (case, "the disguise should look correct")
        assert result.score == 0, (case, [(c.check_id, c.score) for c in result.checks if c.score])


# -- the source scan alone, on snippets (no worker: milliseconds) ----------------------------------

#: exercise -> the reference's list of every other built-in, scanned after FORBIDDEN (the contract's names)
LISTS = {"conv": "EVERY_CONVOLUTION", "batchnorm": "EVERY_BATCH_NORM", "pooling": "EVERY_POOLING"}

ROUTES = {
    "conv": {
        "import torch.nn.functional as F\nconv2d = F.conv2d\n": "F.conv2d",
        "from torch.nn import Conv2d as C\n": "import Conv2d",
        "import torch\nclass C(torch.nn.modules.conv._ConvNd):\n    pass\n": "_ConvNd",
        "import torch\ny = torch.ops.aten.convolution\n": "torch.ops.aten.convolution",
        "import torch\ny = torch.nn.grad.conv2d_weight\n": "conv2d_weight",
        "import torch as t\ny = t._C._nn.thnn_conv2d\n": "thnn_conv2d",
        "import torch\ny = torch.conv_tbc\n": "torch.conv_tbc",
    },
    "batchnorm": {
        "from torch import nn\nclass BatchNorm2d(nn.BatchNorm2d):\n    pass\n": "nn.BatchNorm2d",
        "import torch\nclass B(torch.nn.Module):\n    def __init__(self, c):\n        self.bn = torch.nn.BatchNorm2d(c)\n":
            "torch.nn.BatchNorm2d",
        "from torch.nn.modules.batchnorm import _BatchNorm\n": "_BatchNorm",
        "import torch.nn.functional as F\ny = F.batch_norm\n": "F.batch_norm",
        "import torch\ny = torch.batch_norm\n": "torch.batch_norm",
        "import torch\ny = torch.ops.aten.native_batch_norm\n": "native_batch_norm",
        "import torch\ny = torch.nn.functional.instance_norm\n": "instance_norm",
        "from fastai.layers import BatchNorm\n": "fastai.layers",
    },
    "pooling": {
        "import torch.nn.functional as F\ny = F.max_pool2d\n": "F.max_pool2d",
        "import torch.nn.functional as F\ny = F.avg_pool2d\n": "F.avg_pool2d",
        "from torch.nn.functional import adaptive_avg_pool2d\n": "adaptive_avg_pool2d",
        "from torch import nn\ny = nn.AdaptiveMaxPool2d(1)\n": "nn.AdaptiveMaxPool2d",
        "import torch\ny = torch.ops.aten._adaptive_avg_pool2d\n": "_adaptive_avg_pool2d",
        "import torch\nclass P(torch.nn.modules.pooling._MaxPoolNd):\n    pass\n": "_MaxPoolNd",
        "from fastai.layers import AdaptiveConcatPool2d\n": "AdaptiveConcatPool2d",
    },
}


def _scan(exercise: str, sources: dict[str, str]) -> None:
    """The two source scans of the exercise's gate (``test_from_scratch``), without a worker."""
    from grader.testing import assert_from_scratch

    if str(REPO) not in sys.path:
        sys.path.append(str(REPO))  # as the runner does: hidden checks import reference/<name>/ helpers
    lists = importlib.import_module(f"reference.{exercise}.reference")
    assert_from_scratch((), sources, forbidden_names=lists.FORBIDDEN, forbidden_modules=lists.FORBIDDEN_MODULES,
                        what=exercise)
    assert_from_scratch((), sources, forbidden_names=getattr(lists, LISTS[exercise]), what=exercise)


@pytest.mark.parametrize("exercise, source", [(e, s) for e, routes in ROUTES.items() for s in routes])
def test_every_route_to_the_builtin_is_named(exercise, source):
    from grader.testing import CheckFailed

    with pytest.raises(CheckFailed) as failed:
        _scan(exercise, {f"{exercise}.py": source})
    assert ROUTES[exercise][source] in str(failed.value), str(failed.value)


@pytest.mark.parametrize("exercise", sorted(LISTS))
def test_the_solution_passes_the_scan(exercise):
    folder = REPO / "solutions" / exercise
    _scan(exercise, {p.name: p.read_text() for p in folder.glob("*.py")})
