"""``grade k8s-job``: a class graded by a Kubernetes Indexed Job, one shard of students per index.

Kubernetes runs ``completions: N`` pods of one Job, each with its own ``JOB_COMPLETION_INDEX``
(0 .. N-1); pod K runs ``grade batch --shard K+1/N --resume`` into a results folder on a shared
volume, so the split is the same as on a single machine or on Slurm (:func:`grader.batch.in_shard`)
and a pod that is retried resumes its shard. A second Job runs ``grade collect`` once the first has
completed (Kubernetes has no dependencies between Jobs: ``kubectl wait`` between the two applies).

Inside a pod there is no Docker engine, so the pods grade with ``--backend local``: each student's
worker is a separate unprivileged process (bubblewrap where the pod may use user namespaces); the
pod itself, with no service account token, no network policy exceptions and a read-only root file
system, is the outer boundary. The manifests are plain dicts written as YAML; the tests check them
against the official ``kubernetes`` client's models.
"""

from __future__ import annotations

import re
import shlex
import typing as t
from dataclasses import dataclass

from ._limits import JOB_BASE_GB, job_memory_gb

__all__ = ["K8sOptions", "grading_job", "collect_job", "to_yaml"]

#: The image ``ci/docker/Dockerfile.grader`` builds: the grader and the whole course at /course.
DEFAULT_IMAGE = "dl-grader:course"


@dataclass(frozen=True)
class K8sOptions:
    shards: int
    image: str
    claim: str
    #: Paths inside the volume (``claim`` mounted at ``/data``).
    submissions: str = "submissions"
    results: str = "results"
    jobs: int = 1
    device: str = "cpu"
    name: str = "grade"
    namespace: str | None = None
    exercises: tuple[str, ...] = ()
    lang: str = ""
    #: Pod retries per index before the index counts as failed.
    backoff_per_index: int = 2


def _name(text: str) -> str:
    """A DNS-1123 label (what Kubernetes accepts as a Job name)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:50].strip("-")
    if not name:
        raise ValueError("--name must contain letters or digits")
    return name


def _metadata(options: K8sOptions, suffix: str) -> dict[str, t.Any]:
    meta: dict[str, t.Any] = {"name": f"{_name(options.name)}-{suffix}",
                              "labels": {"app.kubernetes.io/name": "dl-grader", "dl-grader/batch": _name(options.name)}}
    if options.namespace:
        meta["namespace"] = options.namespace
    return meta


def _container(options: K8sOptions, command: str, cpu: int, memory_gib: int, gpu: bool) -> dict[str, t.Any]:
    resources: dict[str, t.Any] = {"requests": {"cpu": str(cpu), "memory": f"{memory_gib}Gi"},
                                   "limits": {"cpu": str(cpu), "memory": f"{memory_gib}Gi"}}
    if gpu:
        resources["limits"]["nvidia.com/gpu"] = "1"
        resources["requests"]["nvidia.com/gpu"] = "1"
    return {
        "name": "grade",
        "image": options.image,
        "command": ["/bin/sh", "-c", command],
        "resources": resources,
        "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
    }


def _pod_spec(options: K8sOptions, container: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,  # student code must not reach the cluster's API
        "containers": [container],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": options.claim}},
                    {"name": "tmp", "emptyDir": {}}],
    }


def grading_job(options: K8sOptions) -> dict[str, t.Any]:
    """The Indexed Job: N pods, pod K grades shard K+1 of N into the shared results folder."""
    if options.shards < 1 or options.jobs < 1:
        raise ValueError("--shards and --jobs must be at least 1")
    args = [f"/data/{options.submissions}", "--out", f"/data/{options.results}", "--backend", "local",
            "--jobs", str(options.jobs), "--device", options.device, "--resume"]
    for exercise in options.exercises:
        args += ["--exercise", exercise]
    if options.lang:
        args += ["--lang", options.lang]
    command = (f"exec grade --course /course batch {' '.join(shlex.quote(a) for a in args)} "
               f"--shard \"$((JOB_COMPLETION_INDEX + 1))/{options.shards}\"")
    memory = job_memory_gb(options.jobs)  # the same rule as grade slurm's --mem
    container = _container(options, command, options.jobs, memory, options.device == "cuda")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(options, "shards"),
        "spec": {
            "completionMode": "Indexed",
            "completions": options.shards,
            "parallelism": options.shards,
            "backoffLimitPerIndex": options.backoff_per_index,  # a failed shard is retried alone, and resumes
            "template": {"metadata": {"labels": {"dl-grader/batch": _name(options.name)}},
                         "spec": _pod_spec(options, container)},
        },
    }


def collect_job(options: K8sOptions) -> dict[str, t.Any]:
    """The Job that writes the class files and names the students without results."""
    command = (f"exec grade --course /course collect {shlex.quote('/data/' + options.results)} "
               f"--submissions {shlex.quote('/data/' + options.submissions)}"
               + (f" --lang {options.lang}" if options.lang else ""))
    container = _container(options, command, 1, JOB_BASE_GB, False)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(options, "collect"),
        "spec": {"backoffLimit": 0, "template": {"spec": _pod_spec(options, container)}},
    }


def to_yaml(manifest: dict[str, t.Any]) -> str:
    import yaml

    return yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False)
