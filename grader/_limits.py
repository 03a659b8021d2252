"""Resource limits a worker applies to itself before it imports any student code.

The worker sets both soft and hard limits, so an unprivileged student process cannot raise them
again. Under Docker the container's own limits (memory, pids, CPU quota) apply on top.
"""

from __future__ import annotations

import os
import resource
import typing as t
from dataclasses import asdict, dataclass, fields

__all__ = ["Limits", "apply_limits", "CHECK_IMPORT_TIMEOUT", "FORBIDDEN_IN_WORKER", "job_memory_gb"]

#: Packages that no worker may import or read: the references use them in the trusted process,
#: student code never needs them (a from-scratch rule forbids them). bubblewrap and Docker hide
#: their folders; the worker's import blocker is a second line for plain child processes.
FORBIDDEN_IN_WORKER = ("fastai",)

#: Seconds ``grade check`` waits for a student's worker to start and import the package (torch takes
#: a few seconds, the student's own import well under one), so an endless loop at import is reported
#: within this time. ``grade check --timeout`` raises it for exercises that import something heavy.
CHECK_IMPORT_TIMEOUT = 25.0  # 30 s from the student pressing enter, with the CLI start and the report


#: GB one job slot of ``grade batch`` may need: the Docker backend's fork-server container cap (5 GB,
#: server and worker together) plus a trusted pool process (about 1 GB); and GB for the rest of a
#: task (the batch's parent, the OS). README "Choosing --jobs"; cluster jobs ask for this much.
JOB_SLOT_GB, JOB_BASE_GB = 6, 2


def job_memory_gb(jobs: int) -> int:
    """Memory, in GB, for one ``grade batch --jobs jobs`` (a Slurm task, a Kubernetes pod)."""
    return JOB_BASE_GB + JOB_SLOT_GB * jobs


@dataclass(frozen=True)
class Limits:
    """What one sandboxed worker may use. Every field has a command-line twin in the worker."""

    #: Writable memory (``RLIMIT_DATA``) in MiB; 0 means unlimited. Torch alone takes ~1 GiB.
    memory_mb: int = 4096
    #: CPU seconds over the worker's whole life (``RLIMIT_CPU``).
    cpu_s: int = 600
    #: Largest file the worker may write, in MiB (``RLIMIT_FSIZE``); also caps captured output.
    fsize_mb: int = 64
    #: Extra processes/threads beyond those the user already runs (``RLIMIT_NPROC``; not for root).
    nproc: int = 256
    #: Intra-op threads for torch; 0 keeps torch's default.
    threads: int = 0
    #: Wall-clock seconds one call may take before the worker is killed; ``None``: the exercise's
    #: ``call_timeout`` (a check's ``check_timeout`` marker overrides both).
    call_timeout: float | None = None
    #: Wall-clock seconds to start the worker and import the student's package. This default is
    #: batch grading's (a cold container on a loaded machine); ``grade check`` uses
    #: :data:`CHECK_IMPORT_TIMEOUT`.
    import_timeout: float = 120.0
    #: Bytes of student output kept per check in feedback.
    output_bytes: int = 10_000
    #: Share of the GPU's memory one worker may allocate (``torch.cuda.set_per_process_memory_fraction``);
    #: 0 leaves it alone. Batch grading on CUDA gives each of its jobs an equal share, so one
    #: student's allocation fails with an explained out-of-memory error instead of starving the next.
    gpu_share: float = 0.0
    #: Replies are sized by what was asked (``Sandbox`` refuses a larger one before reading it, and
    #: restarts the worker). Measured on the solutions of all 16 exercises (``grade check NAME
    #: --submission solutions --hidden``, again after the checks judged models on weights): the
    #: largest JSON header of a reply was 49 KB, the largest reply 649 KB (a state_dict), all replies
    #: of all 16 exercises together 13.1 MB. So: a hard cap on the header
    #: (structure, numbers, text; tensors travel as blobs) ...
    reply_header_bytes: int = 2 << 20
    #: ... a reply of a call, getattr, import or modules request: this many bytes plus
    #: ``reply_per_request_byte`` per byte of the request (a function may return what it was sent) ...
    call_reply_bytes: int = 16 << 20
    #: ... a scenario (it may build, train and return a model's weights) ...
    scenario_reply_bytes: int = 48 << 20
    reply_per_request_byte: int = 8
    #: ... and all replies of one submission together (one sandbox serves all of a student's exercises).
    submission_reply_bytes: int = 512 << 20

    def for_device(self, device: str) -> "Limits":
        """Limits for grading on ``device``. With a GPU in play ``RLIMIT_DATA`` is dropped: CUDA
        maps large private regions when it starts, so memory is left to the container's cgroup."""
        gpu_visible = os.path.exists("/dev/nvidiactl") or os.path.exists("/dev/dxg")
        return self.replace(memory_mb=0) if device in ("cuda", "auto") and gpu_visible else self

    def worker_args(self) -> list[str]:
        """The flags that hand these limits to ``python -m grader._worker``."""
        return [f"--{f.name.replace('_', '-')}={getattr(self, f.name)}" for f in fields(self)
                if f.name in _WORKER_FIELDS]

    def replace(self, **changes: t.Any) -> "Limits":
        return Limits(**{**asdict(self), **changes})


_WORKER_FIELDS = ("memory_mb", "cpu_s", "fsize_mb", "nproc", "threads", "gpu_share")


def _set(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(which)
        if hard == resource.RLIM_INFINITY or value <= hard:
            resource.setrlimit(which, (value, hard))


def _user_tasks() -> int:
    """Processes and threads the current uid runs now (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                continue
    return count


def apply_limits(memory_mb: int, cpu_s: int, fsize_mb: int, nproc: int) -> None:
    """Apply the limits to the calling process (and so to everything it forks)."""
    _set(resource.RLIMIT_CORE, 0)
    if memory_mb > 0:
        _set(resource.RLIMIT_DATA, memory_mb << 20)
    if cpu_s > 0:
        _set(resource.RLIMIT_CPU, cpu_s)
    if fsize_mb > 0:
        _set(resource.RLIMIT_FSIZE, fsize_mb << 20)
    if nproc > 0 and os.getuid() != 0:
        _set(resource.RLIMIT_NPROC, _user_tasks() + nproc)
