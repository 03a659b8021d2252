"""Run sandbox workers in Docker containers, with the docker SDK.

One container per submission worker: ``--network none``, memory, pids and CPU limits, a read-only
root, a size-limited tmpfs for scratch, an unprivileged user, no capabilities. Mounted: the
student's staged files (read-only), the worker code and the Python it runs on (read-only), and a
per-sandbox folder for the socket and the output log. Never ``reference/``, ``solutions/``, the
checks or other students. The worker connects back over a Unix socket in that folder. fastai
(``FORBIDDEN_IN_WORKER``) is hidden: an empty read-only tmpfs over its folder, whose ``__init__.py``
raises ImportError (:func:`forbidden_mounts`).

Two kinds of image:

- ``dl-grader-worker:local-1`` (default), made here by ``docker import`` of a tiny root file system
  (empty folders and the ``/lib -> usr/lib`` links), with the host's ``/usr``, Python and
  ``.venv`` bind-mounted read-only at the same paths. It needs no registry.
- an image built from ``ci/docker/Dockerfile.cpu`` or ``Dockerfile.gpu`` (``--image NAME``), which
  carries its own Python, torch and grader; nothing of the host is mounted but the student's files.
"""

from __future__ import annotations

import io
import os
import select
import socket
import sys
import tarfile
import time
import typing as t
import uuid
from pathlib import Path

from ._wire import Deadline, PeerClosed
from .sandbox import describe_returncode

__all__ = ["DockerForkLauncher", "DockerLauncher", "LOCAL_IMAGE", "docker_available", "remove_containers",
           "sweep_orphans", "gpu_requests"]

LOCAL_IMAGE = "dl-grader-worker:local-1"
#: Label on every container we start, so that a sweep can remove leftovers after Ctrl-C.
LABEL = "dl-grader.worker"
#: ``host:pid`` of the grader that owns a container: a later batch removes it once that pid is gone.
OWNER_LABEL = "dl-grader.owner"
_UID = 65534  # nobody


def _client() -> t.Any:
    import docker

    return docker.from_env(timeout=60)


def docker_available() -> bool:
    """Whether a Docker engine answers here."""
    try:
        return bool(_client().ping())
    except Exception:
        return False


def _local_rootfs() -> bytes:
    """A root file system of empty folders and usr-merge links, as a tar for ``docker import``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("usr", "tmp", "proc", "dev", "sys", "etc", "submission", "io", "work", "root", "opt"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755  # tmpfs copies it
            tar.addfile(info)
        for name, target in (("lib", "usr/lib"), ("lib64", "usr/lib64"), ("bin", "usr/bin"), ("sbin", "usr/sbin")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        passwd = b"root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/tmp:/usr/sbin/nologin\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def ensure_local_image(client: t.Any = None) -> str:
    """Create ``dl-grader-worker:local`` if it does not exist yet (about a second)."""
    import docker

    client = client or _client()
    try:
        client.images.get(LOCAL_IMAGE)
    except docker.errors.ImageNotFound:
        repo, tag = LOCAL_IMAGE.split(":")
        client.api.import_image_from_data(_local_rootfs(), repository=repo, tag=tag)
    return LOCAL_IMAGE


def gpu_requests(gpu: bool) -> list[t.Any]:
    """``device_requests`` that pass every GPU to a container (``docker run --gpus all``), or none."""
    if not gpu:
        return []
    import docker

    return [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]


def _labels(batch_id: str, owner_pid: int | None) -> dict[str, str]:
    return {LABEL: batch_id, OWNER_LABEL: f"{socket.gethostname()}:{owner_pid or os.getpid()}"}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphans(client: t.Any = None) -> int:
    """Remove containers whose grader is gone (killed with SIGKILL, say); returns how many.

    Containers are started with ``auto_remove``, so the engine deletes them when they stop; this
    catches the rest (a worker still looping after its grader died). A container of a grader
    that still runs on this host is left alone, so concurrent batches don't hurt each other.
    """
    try:
        client = client or _client()
        containers = client.containers.list(all=True, filters={"label": LABEL})
    except Exception:
        return 0
    host, removed = socket.gethostname(), 0
    for container in containers:
        owner = str(container.labels.get(OWNER_LABEL, ""))
        name, _, pid = owner.partition(":")
        if name == host and pid.isdigit() and _pid_alive(int(pid)):
            continue
        if name and name != host and container.status == "running":
            continue  # another machine's grader, sharing this engine
        try:
            container.remove(force=True)
            removed += 1
        except Exception:
            pass
    return removed


def _host_mounts() -> dict[str, dict[str, str]]:
    """Read-only mounts that let the local image run this host's Python, venv and worker code."""
    paths = {"/usr", os.path.realpath(sys.base_prefix), sys.prefix, str(Path(__file__).resolve().parent)}
    if os.path.realpath(sys.prefix) != sys.prefix:
        paths.add(os.path.realpath(sys.prefix))
    return {p: {"bind": p, "mode": "ro"} for p in sorted(paths) if os.path.isdir(p)}


_IMAGE_COVERS: dict[str, list[str]] = {}


def _image_covers(client: t.Any, image: str) -> list[str]:
    """Where a built image (``--image``) has the forbidden packages: asked once per image."""
    if image not in _IMAGE_COVERS:
        from ._limits import FORBIDDEN_IN_WORKER

        code = ("import importlib.util as u\nfor n in %r:\n s = u.find_spec(n)\n"
                " for p in (s.submodule_search_locations or []) if s else []: print(p)" % (FORBIDDEN_IN_WORKER,))
        try:
            out = client.containers.run(image, ["python", "-I", "-c", code], network_mode="none", user=f"{_UID}:{_UID}",
                                        read_only=True, cap_drop=["ALL"], remove=True, stderr=False)
            _IMAGE_COVERS[image] = [p for p in out.decode(errors="replace").split() if p.startswith("/")]
        except Exception:  # no Python named python there: the worker's import blocker is what is left
            _IMAGE_COVERS[image] = []
    return _IMAGE_COVERS[image]


def forbidden_mounts(local: bool, client: t.Any = None, image: str = "") -> tuple[dict[str, str], list[t.Any]]:
    """``(tmpfs, mounts)`` that hide fastai from a worker container.

    An empty tmpfs (mode 0555, owned by root: no worker may write to it) covers the package's folder
    where the container has it: with the local image, where the host's venv has it (mounted at the
    same path); with a built image, where that image's Python finds it. The grader's
    ``_blocked.py`` is bound read-only over its ``__init__.py``, so that ``import fastai`` fails
    with a message instead of finding an empty namespace package.
    """
    import docker

    from ._isolation import BLOCKED_INIT, forbidden_covers

    covers = forbidden_covers(sorted(_host_mounts())) if local else _image_covers(client, image)
    tmpfs = {cover: "size=64k,mode=0555" for cover in covers}
    mounts = [docker.types.Mount(f"{cover}/__init__.py", BLOCKED_INIT, type="bind", read_only=True)
              for cover in covers]
    return tmpfs, mounts


class _DockerProcess:
    """A started container; ``sock`` accepts the worker's connection on first use."""

    def __init__(self, container: t.Any, listener: socket.socket, deadline: float) -> None:
        self.container = container
        self._listener = listener
        self._deadline = deadline
        self._sock: socket.socket | None = None

    @property
    def sock(self) -> socket.socket:
        while self._sock is None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise Deadline()
            ready, _, _ = select.select([self._listener], [], [], min(remaining, 0.5))
            if ready:
                self._sock, _ = self._listener.accept()
                self._listener.close()
            elif self.poll() is not None:
                raise PeerClosed("the container exited before the worker connected")
        return self._sock

    def poll(self) -> int | None:
        try:
            self.container.reload()
        except Exception:
            return -9
        if self.container.status in ("exited", "dead"):
            return int(self.container.attrs["State"].get("ExitCode", -1))
        return None

    def kill(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception:
            pass
        for s in (self._sock, self._listener):
            if s is not None:
                s.close()

    def describe_exit(self) -> str:
        try:  # the engine removes the container once it stopped (auto_remove): wait's answer is all we get
            code = int(self.container.wait(timeout=3).get("StatusCode", -1))
        except Exception:
            return describe_returncode(None)
        return describe_returncode(128 - code if code > 128 else code)  # 137 = killed by signal 9 (memory?)


class DockerLauncher:
    """Start each worker in its own container.

    :param image: ``dl-grader-worker:local`` (host Python mounted) or an image from ``ci/docker``.
    :param memory_mb: container memory limit (RAM and swap together).
    :param cpus: CPU quota of one container.
    :param pids: most processes and threads in one container (fork bombs stop here).
    :param tmpfs_mb: size of the writable ``/tmp``.
    :param batch_id: label value that :func:`remove_containers` sweeps.
    """

    def __init__(self, image: str = LOCAL_IMAGE, *, memory_mb: int = 3072, cpus: float = 1.0, pids: int = 256,
                 tmpfs_mb: int = 64, batch_id: str | None = None, start_timeout: float = 120.0,
                 gpu: bool = False, owner_pid: int | None = None) -> None:
        self.client = _client()
        self.image = ensure_local_image(self.client) if image == LOCAL_IMAGE else image
        self.memory_mb, self.cpus, self.pids, self.tmpfs_mb = memory_mb, cpus, pids, tmpfs_mb
        self.batch_id = batch_id or uuid.uuid4().hex[:12]
        self.start_timeout = start_timeout
        self.local = image == LOCAL_IMAGE
        self.gpu, self.owner_pid = gpu, owner_pid

    def launch(self, root: Path, scratch: Path, worker_args: list[str]) -> _DockerProcess:
        io_dir = scratch / "io"
        io_dir.mkdir(exist_ok=True)
        os.chmod(io_dir, 0o755)  # the grader's: the worker may use the socket and its log, not add files
        sock_path = io_dir / "worker.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(sock_path))
        os.chmod(sock_path, 0o777)
        listener.listen(1)
        (io_dir / "output.log").touch()
        if os.getuid() == 0:
            os.chown(io_dir / "output.log", _UID, _UID)
        else:
            os.chmod(io_dir / "output.log", 0o666)
        python = sys.executable if self.local else "python"
        mounts = _host_mounts() if self.local else {}
        mounts[str(root)] = {"bind": "/submission", "mode": "ro"}
        mounts[str(io_dir)] = {"bind": "/io", "mode": "rw"}
        command = [python, "-I", "-m", "grader._worker", "--connect=/io/worker.sock", "--root=/submission",
                   "--output=/io/output.log", *worker_args]
        hidden, hidden_mounts = forbidden_mounts(self.local, self.client, self.image)
        container = self.client.containers.run(
            self.image, command, detach=True, network_mode="none", user=f"{_UID}:{_UID}",
            mem_limit=f"{self.memory_mb}m", memswap_limit=f"{self.memory_mb}m", pids_limit=self.pids,
            nano_cpus=int(self.cpus * 1e9), read_only=True, cap_drop=["ALL"],
            security_opt=["no-new-privileges"], tmpfs={"/tmp": f"size={self.tmpfs_mb}m,mode=1777", **hidden},
            volumes=mounts, mounts=hidden_mounts, working_dir="/tmp", labels=_labels(self.batch_id, self.owner_pid),
            environment={"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin",
                         "OMP_NUM_THREADS": "1"},
            stdin_open=False, tty=False, auto_remove=True, device_requests=gpu_requests(self.gpu),
        )
        return _DockerProcess(container, listener, time.monotonic() + self.start_timeout)

    def output_path(self, scratch: Path) -> Path:
        return scratch / "io" / "output.log"

    def cleanup(self) -> int:
        return remove_containers(self.batch_id, self.client)


def remove_containers(batch_id: str | None = None, client: t.Any = None) -> int:
    """Force-remove our containers (of one batch, or all of them); returns how many."""
    try:
        client = client or _client()
        label = f"{LABEL}={batch_id}" if batch_id else LABEL
        containers = client.containers.list(all=True, filters={"label": label})
    except Exception:
        return 0
    for container in containers:
        try:
            container.remove(force=True)
        except Exception:
            pass
    return len(containers)


def _fork_server_base() -> t.Any:
    from .forkserver import ForkServerLauncher

    return ForkServerLauncher


class DockerForkLauncher(_fork_server_base()):  # type: ignore[misc]
    """Warm workers in Docker: one long-lived container per batch slot runs the fork server.

    The container has the same limits as a per-submission container (no network, read-only
    root, memory, pids, CPU, tmpfs), but runs the server as root *inside* it with only the
    capabilities it needs to hand each forked worker its own uid (SETUID, SETGID) and to kill and
    sweep that uid afterwards (KILL, CHOWN). Workers drop every capability when they switch uid.
    The slot's ``stage/`` folder (mounted read-only at ``/stage``) only ever holds the student being
    graded; ``io/`` (at ``/io``) holds the control socket and one output log per worker.
    """

    def __init__(self, image: str = LOCAL_IMAGE, *, memory_mb: int = 5120, cpus: float = 1.0, pids: int = 512,
                 tmpfs_mb: int = 256, batch_id: str | None = None, gpu: bool = False,
                 owner_pid: int | None = None, warm: t.Sequence[str] = ()) -> None:
        super().__init__(unprivileged=True, uid_base=200_000, warm=warm, local_sandbox=False)
        self.gpu, self.owner_pid = gpu, owner_pid
        import tempfile

        self.client = _client()
        self.image = ensure_local_image(self.client) if image == LOCAL_IMAGE else image
        self.local = image == LOCAL_IMAGE
        self.memory_mb, self.cpus, self.pids, self.tmpfs_mb = memory_mb, cpus, pids, tmpfs_mb
        self.batch_id = batch_id or uuid.uuid4().hex[:12]
        self.slot = Path(tempfile.mkdtemp(prefix="grade-slot-"))
        self.stage_dir = self.slot / "stage"
        self.stage_dir.mkdir()
        (self.slot / "io").mkdir()
        os.chmod(self.slot, 0o755)
        os.chmod(self.slot / "io", 0o755)
        self.root_mode = True
        self.isolation = "container per slot, own uid per submission, no network"
        self._container: t.Any = None

    def _start_server(self) -> None:
        control_path = self.slot / "io" / "control.sock"
        control_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(str(control_path))
        listener.listen(1)
        python = sys.executable if self.local else "python"
        mounts = _host_mounts() if self.local else {}
        mounts[str(self.stage_dir)] = {"bind": "/stage", "mode": "ro"}
        mounts[str(self.slot / "io")] = {"bind": "/io", "mode": "rw"}
        hidden, hidden_mounts = forbidden_mounts(self.local, self.client, self.image)
        self._container = self.client.containers.run(
            self.image, [python, "-I", "-m", "grader._zygote", "--connect=/io/control.sock",
                         *(f"--warm={m}" for m in self.warm)], detach=True,
            network_mode="none", user="0:0", mem_limit=f"{self.memory_mb}m", memswap_limit=f"{self.memory_mb}m",
            pids_limit=self.pids, nano_cpus=int(self.cpus * 1e9), read_only=True, cap_drop=["ALL"],
            cap_add=["SETUID", "SETGID", "KILL", "CHOWN"], security_opt=["no-new-privileges"],
            tmpfs={"/tmp": f"size={self.tmpfs_mb}m,mode=1777", **hidden}, volumes=mounts, mounts=hidden_mounts,
            working_dir="/tmp", labels=_labels(self.batch_id, self.owner_pid),
            environment={"HOME": "/tmp", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"},
            auto_remove=True, device_requests=gpu_requests(self.gpu),
        )
        deadline = time.monotonic() + 180
        try:
            while True:
                ready, _, _ = select.select([listener], [], [], 0.5)
                if ready:
                    control, _ = listener.accept()
                    break
                try:
                    self._container.reload()
                except Exception:  # auto_remove: it exited and is gone already
                    raise PeerClosed("the fork-server container exited while starting") from None
                if self._container.status in ("exited", "dead") or time.monotonic() > deadline:
                    raise PeerClosed("the fork-server container did not start: "
                                     + self._container.logs(tail=20).decode(errors="replace"))
        finally:
            listener.close()
        control.settimeout(180)
        hello = control.recv(1 << 16)
        if b'"ready"' not in hello:
            raise PeerClosed("the fork-server container did not become ready")
        control.settimeout(30)
        self._control = control

    def _server_alive(self) -> bool:
        if self._control is None or self._container is None:
            return False
        try:
            self._container.reload()
        except Exception:
            return False
        return bool(self._container.status == "running")

    def output_path(self, scratch: Path) -> Path:
        return self.slot / "io" / scratch.name / "output.log"

    def _paths(self, root: Path, scratch: Path) -> tuple[str, str, str]:
        try:
            rel = root.resolve().relative_to(self.stage_dir.resolve())
        except ValueError:
            raise ValueError(f"{root} is not inside this slot's stage folder {self.stage_dir}") from None
        return f"/stage/{rel}", f"/io/{scratch.name}/output.log", f"/tmp/{scratch.name}"

    def release(self, scratch: Path) -> None:
        import shutil as _shutil

        _shutil.rmtree(self.slot / "io" / scratch.name, ignore_errors=True)

    def close(self) -> None:
        self._close_control()
        if self._container is not None:
            try:
                self._container.remove(force=True)
            except Exception:
                pass
            self._container = None

    def shutdown(self) -> None:
        """Remove the container and the slot folder (end of the batch)."""
        import shutil as _shutil

        self.close()
        _shutil.rmtree(self.slot, ignore_errors=True)

    def __del__(self) -> None:
        try:
            self.shutdown()
        except Exception:
            pass
