"""The GPU path, covered on a CPU machine: device logic, a clear error without CUDA, GPU sharing
settings, containers that get the GPU, and the CI workflows that run the GPU commands.

What ran on a real GPU is recorded in the README ("GPU"); these tests keep the code paths honest
where there is none.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from grader._limits import Limits
from grader.testing import tolerances

GRADE = [sys.executable, "-m", "grader.cli", "--course", str(REPO)]


def test_tolerance_follows_the_result_dtype_not_the_device():
    import torch

    x = torch.tensor([2.0, -3.0])
    assert tolerances(x) == (1e-4, pytest.approx(3e-4))
    assert tolerances(x.double()) == (1e-9, pytest.approx(3e-9))
    assert tolerances(x, torch.float64) == tolerances(x.double())  # float64 asked for: float64 tolerance


def test_cuda_without_a_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    proc = subprocess.run([*GRADE, "check", "conv", "--submission", str(REPO / "solutions"), "--device", "cuda"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "--device cuda was asked for, but torch sees no CUDA device here" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_auto_device_falls_back_to_cpu():
    import torch

    from grader.runner import resolve_device

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


def test_gpu_share_reaches_the_worker():
    args = Limits(gpu_share=0.45).worker_args()
    assert "--gpu-share=0.45" in args
    from grader._worker import parse_args

    assert parse_args(["--root=/x", "--output=/y", *args]).gpu_share == pytest.approx(0.45)


def test_containers_get_the_gpu_only_when_grading_on_cuda():
    pytest.importorskip("docker")
    from grader.docker_backend import gpu_requests

    assert gpu_requests(False) == []
    (request,) = gpu_requests(True)
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]


@pytest.mark.parametrize("name", ["gpu.yml", "cpu.yml"])
def test_ci_workflows_are_valid_and_run_the_readme_commands(name):
    workflow = yaml.safe_load((REPO / "ci" / "workflows" / name).read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    readme = (REPO / "README.md").read_text()
    if name == "gpu.yml":
        for command in ("grade validate --device cuda", "grade batch examples/submissions", "pytest -q"):
            assert any(command in s for s in steps), command
            assert command in readme, f"README does not document {command!r} for GPU runners"
        assert any("--junit-xml" in s for s in steps)
    else:
        assert any("make test" in s for s in steps)
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for job in workflow["jobs"].values()
               for s in job["steps"])


def test_validate_writes_junit_xml(tmp_path):
    import xml.etree.ElementTree as ET

    from grader.validation import ValidationReport, write_junit

    good, bad = ValidationReport("conv"), ValidationReport("relu", problems=["mutant x passes every check"])
    good.skipped.append("mutant precision_tf32: needs cuda")
    write_junit([good, bad], tmp_path / "v.xml", "cpu")
    suite = ET.parse(tmp_path / "v.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert "passes every check" in suite.find("testcase[@name='relu']/failure").text
