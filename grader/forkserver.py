"""Launch workers by forking a warm ``_zygote`` instead of starting a new interpreter.

A worker from the fork server answers in milliseconds instead of the ~2 s torch import, which is
what lets a batch approach the checks' own compute. One server per batch job slot; it is
started on first use and restarted if it dies.

Isolation of each forked worker: its own session (killed as a process group), its own uid when
the server runs as root (``uid_base + n``: it cannot signal the grader, the server or other
students, and all processes of that uid are swept when the sandbox closes), no network, the same
rlimits as any worker, its own scratch folder.

For ``grade batch --backend local`` the server runs in a bubblewrap sandbox of its own, one per
job slot, as the Docker backend runs it in one container per slot (``grader._isolation``): it sees
the Python runtime and venv read-only (no fastai), the slot's ``stage/`` folder at ``/stage`` (which
only ever holds the student being graded), private tmpfs ``/tmp``, ``/var/tmp``, ``/run/lock`` and
``/dev/shm`` (swept after each worker), no network, no other process of the host. Workers get
their output file as an open descriptor, so nothing of the grader's folders is mounted. Without
bubblewrap, as root, the server runs under ``unshare --net`` and the staged files are readable
only by the worker's group (:func:`grader._isolation.grant_to_gid`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

from ._wire import PeerClosed
from .sandbox import describe_returncode

__all__ = ["ForkServerLauncher"]


class _ForkedProcess:
    def __init__(self, launcher: "ForkServerLauncher", pid: int, sock: socket.socket, uid: int | None,
                 cwd: str) -> None:
        self.launcher = launcher
        self.pid = pid
        self.sock = sock
        self.uid = uid
        self.cwd = cwd

    def poll(self) -> int | None:
        return self.launcher._status(self.pid)

    def kill(self) -> None:
        try:
            self.launcher._request({"op": "kill", "pid": self.pid})
            if self.uid is not None or self.launcher.bwrap:
                self.launcher._request({"op": "sweep", "uid": self.uid, "cwd": self.cwd})
        except PeerClosed:
            pass  # the server is gone, and its children with it (or they are swept at restart)
        self.sock.close()

    def describe_exit(self) -> str:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            code = self.poll()
            if code is not None:
                return describe_returncode(code)
            time.sleep(0.02)
        return describe_returncode(None)


class ForkServerLauncher:
    """Start workers as forks of a warm server process.

    :param unprivileged: run the server in a bubblewrap sandbox of its own where that works
        (``grader._isolation``); as root give every worker its own uid from ``uid_base`` (and,
        without bubblewrap, run the server in its own network namespace).
    :param warm: extra modules the server imports up front (e.g. ``torch._dynamo``).
    :param device: ``cuda`` binds the GPU's device nodes into the sandbox.
    :param local_sandbox: ``False`` for subclasses that bring their own (Docker).
    """

    def __init__(self, unprivileged: bool = True, uid_base: int | None = None, warm: t.Sequence[str] = (),
                 device: str = "cpu", local_sandbox: bool = True, role: str = "grade") -> None:
        self.python = sys.executable
        #: what the server is for, on its command line (``ps`` tells a batch's servers from validation's)
        self.role = role
        self.root_mode = unprivileged and os.getuid() == 0
        self.uid_base = uid_base if uid_base is not None else 200_000 + (os.getpid() % 1000) * 1000
        self.warm = list(warm)
        self.device = device
        self._counter = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._lock = threading.RLock()  # one request at a time on the control socket
        self._keep_alive = threading.Event()
        self.isolation = ("own uid per submission, no network" if self.root_mode and shutil.which("unshare")
                          else "same user as the grader")
        #: ``bwrap-root`` or ``bwrap-user`` when the server runs in a bubblewrap sandbox, else None.
        self.bwrap: str | None = None
        if unprivileged and local_sandbox:
            from ._isolation import local_mode

            mode = local_mode()
            if mode.bwrap:
                self.bwrap = mode.name
                self.root_mode = mode.name == "bwrap-root"
                self.slot = Path(tempfile.mkdtemp(prefix="grade-slot-"))
                self.stage_dir = self.slot / "stage"
                self.stage_dir.mkdir()
                os.chmod(self.slot, 0o755)
                os.chmod(self.stage_dir, 0o755)
                self.isolation = ("bubblewrap sandbox per job slot, own uid per submission, no network"
                                  if self.root_mode else "bubblewrap sandbox per job slot (user namespace), no network")

    # -- server --------------------------------------------------------------------------
    def _start_server(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server = [self.python, "-I", "-m", "grader._zygote", f"--fd={child.fileno()}", f"--role={self.role}",
                  *(f"--warm={m}" for m in self.warm)]
        env = None
        if self.bwrap:
            from ._isolation import bwrap_command, sandbox_env

            caps = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN") if self.root_mode else ()
            command = [*bwrap_command(self.bwrap, binds=[(str(self.stage_dir), "/stage")], caps=caps,
                                      device=self.device, pid1=True), "--", *server, "--sandboxed"]
            env = sandbox_env() | {"OMP_NUM_THREADS": "1"}
        else:
            prefix = ["unshare", "--net", "--"] if self.root_mode and shutil.which("unshare") else []
            command = [*prefix, *server]
        log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=log, start_new_session=True, env=env)
        child.close()
        parent.settimeout(180)
        try:
            hello = json.loads(parent.recv(1 << 16) or b"{}")
        except (OSError, ValueError):
            hello = {}
        if not hello.get("ready"):
            self._proc.kill()
            log.seek(0)
            raise PeerClosed("the fork server did not start: " + log.read()[-2000:].decode(errors="replace"))
        log.close()
        parent.settimeout(30)
        self._control = parent

    def _server_alive(self) -> bool:
        return self._control is not None and self._proc is not None and self._proc.poll() is None

    def prestart(self) -> threading.Thread:
        """Start the server in the background (it imports torch while the caller does too)."""
        def start() -> None:
            try:
                with self._lock:
                    if not self._server_alive():
                        self.close()
                        self._start_server()
            except Exception:
                pass  # the first real request retries and reports
            if self.bwrap:
                # bwrap --die-with-parent uses PR_SET_PDEATHSIG, which fires when the *thread* that
                # started bwrap ends: this one must outlive the server it started.
                self._keep_alive.wait()

        thread = threading.Thread(target=start, daemon=True)
        thread.start()
        return thread

    def _request(self, message: dict[str, t.Any], fds: t.Sequence[int] = ()) -> dict[str, t.Any]:
        with self._lock:
            return self._request_locked(message, fds)

    def _request_locked(self, message: dict[str, t.Any], fds: t.Sequence[int]) -> dict[str, t.Any]:
        if not self._server_alive():
            self.close()
            self._start_server()
        assert self._control is not None
        try:
            socket.send_fds(self._control, [json.dumps(message).encode()], list(fds))
            reply = json.loads(self._control.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as exc:
            self.close()
            raise PeerClosed(f"the fork server failed: {exc}") from None
        if "error" in reply:
            raise PeerClosed(f"the fork server refused: {reply['error']}")
        return t.cast(dict[str, t.Any], reply)

    def _status(self, pid: int) -> int | None:
        try:
            code = self._request({"op": "status", "pid": pid}).get("code")
        except PeerClosed:
            return -9
        return code if isinstance(code, int) else None

    def _close_control(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None

    def close(self) -> None:
        """Stop the server (its workers are killed by their sandboxes)."""
        self._close_control()
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self._proc.wait()
            self._proc = None

    def shutdown(self) -> None:
        """Stop the server and remove the slot folder (end of the batch)."""
        self.close()
        self._keep_alive.set()
        if self.bwrap:
            shutil.rmtree(self.slot, ignore_errors=True)

    # -- launcher API --------------------------------------------------------------------
    def output_path(self, scratch: Path) -> Path:
        return scratch / "output.log"

    def _paths(self, root: Path, scratch: Path) -> tuple[str, str, str]:
        """(root, output, cwd) as the server sees them."""
        if self.bwrap:
            try:
                rel = root.resolve().relative_to(self.stage_dir.resolve())
            except ValueError:
                raise ValueError(f"{root} is not inside this slot's stage folder {self.stage_dir}") from None
            return f"/stage/{rel}", "", f"/tmp/{scratch.name}"
        return str(root), str(self.output_path(scratch)), str(scratch)

    def launch(self, root: Path, scratch: Path, worker_args: list[str]) -> _ForkedProcess:
        uid = None
        output = self.output_path(scratch)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.touch()
        if self.root_mode:
            uid = self.uid_base + self._counter % 1000
            self._counter += 1
            if not self.bwrap:
                if output.parent == scratch:  # the scratch folder is the worker's cwd: it must write there
                    os.chown(scratch, uid, uid)
                os.chown(output, uid, uid)
                if type(self) is ForkServerLauncher:  # (Docker stages its own way: a slot per container)
                    from ._isolation import grant_to_gid

                    grant_to_gid(root, uid)
        server_root, server_output, cwd = self._paths(root, scratch)
        parent, child = socket.socketpair()
        output_fd = None
        if self.bwrap:  # the sandbox cannot see the grader's folders: hand it the open output file
            output_fd = os.open(output, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        try:
            reply = self._request({"op": "spawn", "root": server_root, "output": server_output, "cwd": cwd,
                                   "args": worker_args, "uid": uid},
                                  [child.fileno()] + ([output_fd] if output_fd is not None else []))
        finally:
            child.close()
            if output_fd is not None:
                os.close(output_fd)
        return _ForkedProcess(self, int(reply["pid"]), parent, uid, cwd)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
