"""``grade k8s-job``: the manifests are valid Kubernetes objects and grade what ``--shard`` grades.

Checked against the official ``kubernetes`` client's models (its deserializer rejects unknown
types and missing required fields); no cluster is needed. Skips with a reason without the client
(it comes with the dev extra).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from grader.k8s import K8sOptions, collect_job, grading_job, to_yaml

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is in the dev extra (make dev)")


def _as_model(manifest: dict, kind: str):
    """The manifest as the client's model: raises on missing required fields and wrong types."""
    from kubernetes.client import ApiClient

    model = ApiClient()._ApiClient__deserialize(manifest, kind)  # the client's own (de)serializer
    assert ApiClient().sanitize_for_serialization(model) == manifest, "a field the schema does not know was dropped"
    return model


def test_indexed_job_is_valid_and_shards_like_grade_batch():
    job = grading_job(K8sOptions(shards=8, image="dl-grader:course", claim="grade-data", jobs=2))
    model = _as_model(yaml.safe_load(to_yaml(job)), "V1Job")
    assert model.spec.completion_mode == "Indexed" and model.spec.completions == 8
    pod = model.spec.template.spec
    assert pod.restart_policy == "Never" and pod.automount_service_account_token is False
    (container,) = pod.containers
    command = container.command[-1]
    assert "grade --course /course batch /data/submissions --out /data/results" in command
    assert '--shard "$((JOB_COMPLETION_INDEX + 1))/8"' in command and " --resume " in command
    assert container.resources.requests == {"cpu": "2", "memory": "14Gi"} == container.resources.limits
    assert pod.volumes[0].persistent_volume_claim.claim_name == "grade-data"
    assert container.security_context.read_only_root_filesystem is True


def test_cuda_asks_for_a_gpu_per_pod_and_collect_follows():
    options = K8sOptions(shards=3, image="img", claim="c", device="cuda", namespace="course", lang="en",
                         exercises=("conv", "unet"))
    job = _as_model(grading_job(options), "V1Job")
    limits = job.spec.template.spec.containers[0].resources.limits
    assert limits["nvidia.com/gpu"] == "1" and job.metadata.namespace == "course"
    assert "--device cuda" in job.spec.template.spec.containers[0].command[-1]
    assert "--exercise conv --exercise unet" in job.spec.template.spec.containers[0].command[-1]
    collect = _as_model(collect_job(options), "V1Job")
    assert "collect /data/results --submissions /data/submissions --lang en" in \
        collect.spec.template.spec.containers[0].command[-1]
    assert "nvidia.com/gpu" not in collect.spec.template.spec.containers[0].resources.limits


def test_hostile_paths_stay_quoted():
    job = grading_job(K8sOptions(shards=2, image="img", claim="c", submissions="x'; rm -rf / #"))
    command = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    argv = subprocess.run(["/bin/sh", "-c", command.replace("exec grade", "printf '%s\\n'"), "sh"],
                          env={"JOB_COMPLETION_INDEX": "1"}, capture_output=True, text=True).stdout.splitlines()
    assert "/data/x'; rm -rf / #" in argv and argv[-1] == "2/2"  # one argument, and index 1 is shard 2


def test_cli_prints_both_manifests_and_rejects_bad_names(tmp_path):
    grade = [sys.executable, "-m", "grader.cli", "--course", str(REPO)]
    proc = subprocess.run([*grade, "k8s-job", "subs", "--out", "res", "--shards", "4"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    assert [d["metadata"]["name"] for d in docs] == ["grade-shards", "grade-collect"]
    for doc in docs:
        _as_model(doc, "V1Job")
    proc = subprocess.run([*grade, "k8s-job", "subs", "--out", "res", "--shards", "2", "--write", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and (tmp_path / "grade-job.yaml").is_file() and (tmp_path / "collect-job.yaml").is_file()
    proc = subprocess.run([*grade, "k8s-job", "subs", "--out", "res", "--shards", "2", "--name", "!!!"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--name" in proc.stderr
