"""The trusted side of the sandbox: start a worker, send it calls, survive whatever it does.

A :class:`Sandbox` owns one worker process at a time for one submission. Every request has a
deadline; on a timeout or a crash the worker's whole process group is killed, the request fails
with an exception that explains what happened, and the next request starts a fresh worker.
A package whose *import* failed is remembered, so later checks fail at once instead of paying the
import (or its infinite loop) again.

Launchers decide *where* the worker runs: :class:`LocalLauncher` starts a child process here;
the Docker launcher (``grader.docker_backend``) starts it in a container. Both speak the same
socket protocol, so nothing above this module knows the difference.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from . import _codec
from ._limits import Limits
from ._wire import Deadline, PeerClosed, TooLarge, recv_message, recv_sized, send_message

__all__ = [
    "Sandbox", "LocalLauncher", "WorkerProcess", "WorkerError", "StudentError",
    "StudentImportError", "StudentTimeout", "WorkerCrashed", "PackageUnavailable", "BadReply", "RemoteObject",
]

#: Seconds per call when neither the limits nor the check say otherwise.
DEFAULT_CALL_TIMEOUT = 20.0
#: How many times a sandbox restarts a dead worker before it gives up on the submission.
MAX_RESTARTS = 3


class WorkerError(Exception):
    """Something about the student's code, seen from the trusted side. ``str()`` explains it."""

    outcome = "error"


class StudentError(WorkerError):
    """The student's code raised an exception (details are strings made by the worker)."""

    def __init__(self, info: dict[str, t.Any], what: str) -> None:
        self.type_name = str(info.get("type", "Exception"))[:100]
        self.mro = [str(n) for n in info.get("mro", [])][:20] if isinstance(info.get("mro"), list) else []
        self.message = str(info.get("message", ""))[:4000]
        self.student_traceback = str(info.get("traceback", ""))[-4000:]
        self.what = what
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"{self.what} raised {self.type_name}: {self.message}".rstrip(": ")
        if self.type_name == "NotImplementedError":
            text = f"{self.what} is not implemented yet (it raised NotImplementedError)."
        elif self.type_name == "SystemExit":
            text = f"{self.what} called sys.exit({self.message}); return a value instead."
        if self.student_traceback:
            text += "\nIn your code:\n" + self.student_traceback.rstrip()
        return text

    def is_a(self, name: str) -> bool:
        """Whether the raised exception is (a subclass of) the builtin exception ``name``."""
        return name in self.mro


class StudentImportError(StudentError):
    """Importing the student's package failed (so every check of it fails the same way)."""

    def _text(self) -> str:
        text = f"Your package could not be imported: {self.type_name}: {self.message}"
        if self.type_name == "SystemExit":
            text = f"Your package called sys.exit({self.message}) while being imported."
        if self.student_traceback:
            text += "\nIn your code:\n" + self.student_traceback.rstrip()
        return text


class StudentTimeout(WorkerError):
    outcome = "timeout"


class WorkerCrashed(WorkerError):
    pass


class PackageUnavailable(WorkerCrashed):
    """The submission has no usable package for this exercise (absent, or intake refused it)."""


class BadReply(WorkerError):
    """The worker sent something that is not valid data."""


class WorkerProcess(t.Protocol):
    """A started worker, wherever it runs."""

    sock: socket.socket

    def poll(self) -> int | None: ...
    def kill(self) -> None: ...
    def describe_exit(self) -> str: ...


_SIGNAL_HINTS = {
    signal.SIGKILL: "it was killed (SIGKILL), most likely for using more memory than allowed",
    signal.SIGXCPU: "it used up its CPU time limit",
    signal.SIGXFSZ: "it wrote more than the file-size limit",
    signal.SIGSEGV: "it crashed with a segmentation fault",
    signal.SIGABRT: "it aborted",
}


def describe_returncode(code: int | None) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        sig = signal.Signals(-code) if -code in signal.Signals._value2member_map_ else None
        return _SIGNAL_HINTS.get(sig, f"it was killed by signal {sig.name if sig else -code}")  # type: ignore[arg-type]
    if code == 71:  # _zygote.SETUP_FAILED
        return "the grader could not set up the worker (exit status 71; details in the output)"
    return f"it exited with status {code} (os._exit() or sys.exit() outside the call?)"


class _LocalProcess:
    def __init__(self, popen: subprocess.Popen[bytes], sock: socket.socket, sweep_uid: int | None = None) -> None:
        self.popen = popen
        self.sock = sock
        self.sweep_uid = sweep_uid

    def poll(self) -> int | None:
        return self.popen.poll()

    def kill(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # under bwrap: its sandbox, and so every process in it
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.sweep_uid is not None:  # fallback without bwrap: what escaped the group, files in /tmp & co.
            from ._isolation import sweep

            sweep(self.sweep_uid)
        self.sock.close()

    def describe_exit(self) -> str:
        try:
            code = self.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        return describe_returncode(code)


_NOBODY = 65534


@functools.cache
def _can_drop_privileges(python: str) -> bool:
    """Whether we are root and ``python`` still runs as ``nobody`` (it may sit under /root, 0700)."""
    if os.getuid() != 0 or not (shutil.which("setpriv") and shutil.which("unshare")):
        return False
    probe = ["unshare", "--net", "--", "setpriv", f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups",
             "--", python, "-I", "-c", "import grader._worker"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class LocalLauncher:
    """Run the worker as a child process of this one, in its own session and process group.

    With ``unprivileged=False`` (a student's own ``grade check``, ``grade validate``) that is all:
    the worker runs as the current user, and the worker's own import blocker keeps fastai out.

    With ``unprivileged=True`` (``grade batch --backend local --fresh-workers``) every worker gets
    a bubblewrap sandbox of its own (``grader._isolation``): read-only Python and venv without
    fastai, its own staged folder read-only at ``/submission``, private tmpfs scratch folders, no
    network, its own PID namespace, killed with the grader; as root also a uid of its own. Where
    bubblewrap cannot run, the fallback as root is ``unshare --net`` + ``setpriv`` with a uid per
    worker (its files swept afterwards), otherwise the current user; :attr:`isolation` says which.
    """

    def __init__(self, python: str | None = None, extra_env: dict[str, str] | None = None,
                 unprivileged: bool = False, device: str = "cpu", uid_base: int | None = None) -> None:
        self.python = python or sys.executable
        self.extra_env = extra_env or {}
        self.device = device
        self.mode = "none"
        self.isolation = "same user as the grader"
        self.uid_base = uid_base if uid_base is not None else 300_000 + (os.getpid() % 1000) * 1000
        self._counter = 0
        if unprivileged:
            from ._isolation import local_mode

            mode = local_mode()
            if mode.bwrap and self.python == sys.executable:
                self.mode = mode.name
                self.isolation = ("bubblewrap sandbox, own uid, no network" if mode.name == "bwrap-root"
                                  else "bubblewrap sandbox in a user namespace, no network")
            elif _can_drop_privileges(self.python):
                self.mode = "setpriv"
                self.isolation = "own uid, no network (no private file system view)"

    def _next_uid(self) -> int:
        uid = self.uid_base + self._counter % 1000
        self._counter += 1
        return uid

    def launch(self, root: Path, scratch: Path, worker_args: list[str]) -> WorkerProcess:
        parent, child = socket.socketpair()
        output = scratch / "output.log"
        env = _worker_env(scratch) | self.extra_env
        worker = [self.python, "-I", "-m", "grader._worker", f"--fd={child.fileno()}"]
        sweep_uid = None
        if self.mode.startswith("bwrap"):
            from ._isolation import bwrap_command, sandbox_env, setpriv_prefix

            uid = self._next_uid() if self.mode == "bwrap-root" else None
            env = sandbox_env() | self.extra_env
            command = [*bwrap_command(self.mode, binds=[(str(root), "/submission")], device=self.device,
                                      caps=("CAP_SETUID", "CAP_SETGID")), "--", *setpriv_prefix(uid),
                       *worker, "--root=/submission", "--output-fd=1", *worker_args]
        elif self.mode == "setpriv":
            from ._isolation import grant_to_gid

            sweep_uid = self._next_uid()
            grant_to_gid(root, sweep_uid)
            command = ["unshare", "--net", "--", "setpriv", f"--reuid={sweep_uid}", f"--regid={sweep_uid}",
                       "--clear-groups", "--", *worker, f"--root={root}", f"--output={output}", *worker_args]
        else:
            command = [*worker, f"--root={root}", f"--output={output}", *worker_args]
        with open(output, "ab") as out:
            if sweep_uid is not None:
                os.chown(scratch, sweep_uid, sweep_uid)
                os.chown(output, sweep_uid, sweep_uid)
            popen = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out, cwd=scratch, env=env, start_new_session=True)
        child.close()
        return _LocalProcess(popen, parent, sweep_uid)


def _worker_env(scratch: Path) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class RemoteObject:
    """An object that lives in the worker. Attribute access and calls go there.

    Comparison, hashing and truth are *not* forwarded: ``remote == 3`` is identity, so an
    "always equal" object the student returns can never satisfy a check.
    """

    __slots__ = ("_sandbox", "_id", "_generation", "_type", "_repr", "__weakref__")

    def __init__(self, sandbox: "Sandbox", handle: _codec.Handle, generation: int) -> None:
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_id", handle.id)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "_type", handle.type)
        object.__setattr__(self, "_repr", handle.repr)

    def __getattr__(self, name: str) -> t.Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._sandbox.request("getattr", target=self, path=[name])

    def __setattr__(self, name: str, value: t.Any) -> None:
        self._sandbox.request("setattr", target=self, path=[name], args=[value])

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._sandbox.request("call", target=self, args=list(args), kwargs=kwargs)

    def __repr__(self) -> str:
        return f"<remote {self._type}>"

    @property
    def remote_type(self) -> str:
        """``module.QualName`` of the object in the worker (as the worker reported it)."""
        return self._type

    def __del__(self) -> None:
        try:
            self._sandbox._released.append((self._generation, self._id))
        except Exception:
            pass


class Sandbox:
    """One submission's worker, restarted as needed. Use as a context manager.

    :param root: folder holding the student's packages (``root/<name>/__init__.py``).
    :param packages: packages to import as soon as the worker starts.
    :param limits: resource limits and timeouts.
    :param launcher: where the worker runs (default: a local child process).
    """

    def __init__(self, root: Path | str, packages: t.Sequence[str] = (), limits: Limits | None = None,
                 launcher: t.Any = None) -> None:
        self.root = Path(root).resolve()
        self.packages = list(packages)
        self.limits = limits or Limits()
        self.launcher = launcher or LocalLauncher()
        self.scratch = Path(tempfile.mkdtemp(prefix="grade-sandbox-"))
        output_path = getattr(self.launcher, "output_path", None)
        self.output_path = output_path(self.scratch) if output_path else self.scratch / "output.log"
        self._output_offset = 0
        self._proc: WorkerProcess | None = None
        self._generation = 0
        self._failures = 0
        self._ready = False
        self._import_errors: dict[str, dict[str, t.Any]] = {}
        self._released: list[tuple[int, int]] = []
        #: Bytes of all replies so far (``Limits.submission_reply_bytes`` caps it).
        self.reply_bytes = 0
        #: Wall seconds spent waiting for the worker (its start, and every request).
        self.student_seconds = 0.0
        self.closed = False

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "Sandbox":
        """Start the worker without waiting for it (it imports torch and the packages meanwhile)."""
        if self._proc is None:
            self._generation += 1
            self._ready = False
            self._started = time.monotonic()
            preload = [f"--preload={p}" for p in self.packages if p not in self._import_errors]
            self._proc = self.launcher.launch(self.root, self.scratch, [*self.limits.worker_args(), *preload])
        return self

    def _stop_worker(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc = None

    def close(self) -> None:
        """Kill the worker and remove the scratch folder."""
        self._stop_worker()
        self.closed = True
        release = getattr(self.launcher, "release", None)
        if release is not None:
            release(self.scratch)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_ready(self) -> WorkerProcess:
        self.start()
        assert self._proc is not None
        if self._ready:
            return self._proc
        deadline = self._started + self.limits.import_timeout
        try:
            header, _ = recv_message(self._proc.sock, deadline, max_bytes=1 << 20)
        except Deadline:
            self._give_up_imports(f"Importing your package did not finish within "
                                  f"{self.limits.import_timeout:g} s (an endless loop at import time?).")
            raise StudentTimeout(self._import_message()) from None
        except (PeerClosed, _codec.CodecError):
            why = self._proc.describe_exit()
            self._give_up_imports(f"The worker stopped while importing your package: {why}.")
            raise WorkerCrashed(self._import_message()) from None
        errors = header.get("import_errors")
        if isinstance(errors, dict):
            for name, info in errors.items():
                if isinstance(info, dict):
                    self._import_errors[str(name)] = info
        self._ready = True
        return self._proc

    def mark_unavailable(self, package: str, message: str) -> None:
        """Every request for ``package`` fails with ``message`` (e.g. the submission lacks it)."""
        self._import_errors[package] = {"type": "Unavailable", "message": message, "fatal": True}
        if package in self.packages:
            self.packages.remove(package)

    def _give_up_imports(self, message: str) -> None:
        for name in self.packages:
            self._import_errors.setdefault(name, {"type": "ImportFailed", "message": message, "fatal": True})
        self._stop_worker()

    def _import_message(self) -> str:
        return next(iter(self._import_errors.values()), {}).get("message", "import failed")

    # -- requests ------------------------------------------------------------------------
    def request(self, op: str, *, package: str | None = None, target: RemoteObject | None = None,
                path: t.Sequence[str] = (), args: t.Sequence[t.Any] = (), kwargs: dict[str, t.Any] | None = None,
                record_ops: bool = False, timeout: float | None = None, what: str | None = None) -> t.Any:
        """Send one request and return the decoded value (see :meth:`call_with_ops`)."""
        return self.call_with_ops(op, package=package, target=target, path=path, args=args, kwargs=kwargs,
                                  record_ops=record_ops, timeout=timeout, what=what)[0]

    def call_with_ops(self, op: str, **request: t.Any) -> tuple[t.Any, list[str]]:
        """Run ``op`` (``call``, ``getattr``, ``setattr``, ``import``, ``modules``, ``scenario``) in the worker.

        Keywords as for :meth:`request`; ``extra`` adds plain JSON fields to the request (a
        scenario's source, seed and CPU budget). Returns the decoded value and, with
        ``record_ops``, the names of the aten ops that ran. Raises :class:`WorkerError` subclasses
        for everything the student's code did wrong. The wall time spent waiting for the worker is
        added to :attr:`student_seconds` (a check's student-side share of its duration).
        """
        started = time.monotonic()
        try:
            return self._call_with_ops(op, **request)
        finally:
            self.student_seconds += time.monotonic() - started

    def _call_with_ops(self, op: str, *, package: str | None = None, target: RemoteObject | None = None,
                       path: t.Sequence[str] = (), args: t.Sequence[t.Any] = (),
                       kwargs: dict[str, t.Any] | None = None, record_ops: bool = False,
                       timeout: float | None = None, what: str | None = None,
                       extra: dict[str, t.Any] | None = None) -> tuple[t.Any, list[str]]:
        what = what or _describe_target(package, target, path)
        if self.closed:
            raise WorkerCrashed("the sandbox is closed")
        if package is not None and package in self._import_errors:
            raise self._import_failure(package)
        if target is not None and target._generation != self._generation:
            raise WorkerCrashed(f"{target!r} belonged to a worker that has since been restarted")
        if self._failures >= MAX_RESTARTS:
            raise WorkerCrashed(f"Not run: your code crashed or timed out {self._failures} times already.")
        total = self.limits.submission_reply_bytes
        total_mb = _mb(total)
        if self.reply_bytes >= total:
            raise BadReply(f"Not run: your code has sent back more than the {total_mb} MB "
                           "that one submission may send in all.")
        proc = self._wait_ready()
        if package is not None and package in self._import_errors:
            raise self._import_failure(package)

        blobs: list[bytes] = []
        header: dict[str, t.Any] = {
            "op": op, "package": package, "target": target._id if target is not None else None,
            "path": list(path), "record_ops": record_ops,
            "args": _codec.encode(list(args), blobs, self._encode_remote),
            "kwargs": _codec.encode(dict(kwargs or {}), blobs, self._encode_remote),
            **(extra or {}),
        }
        limit = timeout if timeout is not None else (self.limits.call_timeout or DEFAULT_CALL_TIMEOUT)
        left = allowed = total - self.reply_bytes
        try:
            self._flush_releases(proc)
            sent = send_message(proc.sock, header, blobs)
            # Sized by the request: a floor, plus a multiple of what was sent (a function may return
            # its argument); never more than what is left of the submission's budget.
            floor = self.limits.scenario_reply_bytes if op == "scenario" else self.limits.call_reply_bytes
            allowed = floor + self.limits.reply_per_request_byte * sent
            reply, reply_blobs, size = recv_sized(proc.sock, time.monotonic() + limit, min(allowed, left),
                                                  self.limits.reply_header_bytes)
            self.reply_bytes += size
        except TooLarge as exc:
            self._failures += 1
            self._stop_worker()
            if exc.part == "message" and left < allowed:
                self.reply_bytes = total
                raise BadReply(f"Not run: your code has sent back more than the {total_mb} MB "
                               "that one submission may send in all.") from None
            limit_mb = _mb(exc.limit)
            raise BadReply(f"{what} sent back more than {limit_mb} MB, far more than any correct answer "
                           "needs; the reply was refused unread and the worker restarted.") from None
        except Deadline:
            self._failures += 1
            self._stop_worker()
            raise StudentTimeout(f"{what} did not finish within {limit:g} s and was stopped "
                                 "(an endless loop, or far too slow?).") from None
        except (PeerClosed, BrokenPipeError, ConnectionResetError):
            why = proc.describe_exit()
            budget = (extra or {}).get("cpu_budget")
            if budget and "CPU time" in why:
                why = f"it used more than the {budget:g} s of CPU time this check allows (far too slow?)"
            self._failures += 1
            self._stop_worker()
            raise WorkerCrashed(f"The worker running {what} died: {why}.") from None
        except _codec.CodecError as exc:
            self._failures += 1
            self._stop_worker()
            raise BadReply(f"{what} sent back something that is not data: {exc}") from None
        return self._decode_reply(reply, reply_blobs, what, package)

    def _decode_reply(self, reply: dict[str, t.Any], blobs: list[bytes], what: str,
                      package: str | None) -> tuple[t.Any, list[str]]:
        ops = reply.get("ops", [])
        ops = [str(o)[:200] for o in ops] if isinstance(ops, list) else []
        if reply.get("ok") is True:
            try:
                value = _codec.decode(reply.get("value"), blobs, self._decode_remote)
            except _codec.CodecError as exc:
                raise BadReply(f"{what} sent back something that is not data: {exc}") from None
            return value, ops
        info = reply.get("error")
        if not isinstance(info, dict):
            raise BadReply(f"{what} failed without saying why")
        if info.get("where") == "import" and package is not None:
            self._import_errors[package] = info
            raise self._import_failure(package)
        error = StudentError(info, what)
        error.ops = ops  # type: ignore[attr-defined]
        raise error

    def _import_failure(self, package: str) -> WorkerError:
        info = self._import_errors[package]
        if info.get("type") == "Unavailable":
            return PackageUnavailable(str(info.get("message")))
        if info.get("fatal"):
            return WorkerCrashed(str(info.get("message")))
        return StudentImportError(info, package)

    def _encode_remote(self, obj: object) -> dict[str, t.Any]:
        if isinstance(obj, RemoteObject):
            if obj._generation != self._generation:
                raise WorkerCrashed(f"{obj!r} belonged to a worker that has since been restarted")
            return {"$handle": obj._id, "type": "", "repr": ""}
        raise _codec.CodecError(f"cannot send a {type(obj).__qualname__} to the student's code")

    def _decode_remote(self, handle: _codec.Handle) -> RemoteObject:
        return RemoteObject(self, handle, self._generation)

    def _flush_releases(self, proc: WorkerProcess) -> None:
        ids = [i for g, i in self._released if g == self._generation]
        self._released.clear()
        if ids:
            send_message(proc.sock, {"op": "release", "ids": ids})
            recv_message(proc.sock, time.monotonic() + DEFAULT_CALL_TIMEOUT, max_bytes=1 << 16)

    # -- output --------------------------------------------------------------------------
    def take_output(self) -> str:
        """The student's output since the last call of this method, truncated for feedback."""
        try:
            size = self.output_path.stat().st_size
        except OSError:
            return ""
        if size <= self._output_offset:
            self._output_offset = min(self._output_offset, size)
            return ""
        limit = self.limits.output_bytes
        with open(self.output_path, "rb") as f:
            f.seek(self._output_offset)
            data = f.read(min(size - self._output_offset, limit))
        dropped = size - self._output_offset - len(data)
        self._output_offset = size
        text = data.decode("utf-8", errors="replace")
        if dropped > 0:
            text += f"\n… [{dropped} more bytes of output not shown]"
        return text


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.3g}"


def _describe_target(package: str | None, target: RemoteObject | None, path: t.Sequence[str]) -> str:
    name = ".".join(path) if path else ""
    if target is not None:
        base = target.remote_type.rsplit(".", 1)[-1]
        return f"{base}.{name}" if name else f"{base}(...)"
    return f"{name}(...)" if name else f"package {package}"
