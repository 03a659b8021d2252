"""Launch workers by forking a warm ``_zygote`` instead of starting a new interpreter.

A worker from the fork server answers in milliseconds instead of the ~2 s torch import, which is
what lets a batch approach the checks' own compute. One server per batch job slot; it is
started on first use and restarted if it dies.

Isolation of each forked worker: its own session (killed as a process group), its own uid when
the server runs as root (``uid_base + n``: it cannot signal the grader, the server or other
students, and all processes of that uid are swept when the sandbox closes), no network (the
server runs under ``unshare --net`` as root), the same rlimits as any worker, its own scratch folder.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
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
            if self.uid is not None:
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

    :param unprivileged: as root, run the server in its own network namespace and give every
        worker its own uid from ``uid_base``.
    :param warm: extra modules the server imports up front (e.g. ``fastai.vision.all``).
    """

    def __init__(self, unprivileged: bool = True, uid_base: int | None = None, warm: t.Sequence[str] = ()) -> None:
        self.python = sys.executable
        self.root_mode = unprivileged and os.getuid() == 0
        self.uid_base = uid_base if uid_base is not None else 200_000 + (os.getpid() % 1000) * 1000
        self.warm = list(warm)
        self._counter = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._lock = threading.RLock()  # one request at a time on the control socket
        self.isolation = ("own uid per submission, no network" if self.root_mode and shutil.which("unshare")
                          else "same user as the grader")

    # -- server --------------------------------------------------------------------------
    def _start_server(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        prefix = ["unshare", "--net", "--"] if self.root_mode and shutil.which("unshare") else []
        command = [*prefix, self.python, "-I", "-m", "grader._zygote", f"--fd={child.fileno()}",
                   *(f"--warm={m}" for m in self.warm)]
        self._proc = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        child.close()
        parent.settimeout(180)
        try:
            hello = json.loads(parent.recv(1 << 16) or b"{}")
        except (OSError, ValueError):
            hello = {}
        if not hello.get("ready"):
            self._proc.kill()
            raise PeerClosed("the fork server did not start")
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

    # -- launcher API --------------------------------------------------------------------
    def output_path(self, scratch: Path) -> Path:
        return scratch / "output.log"

    def _paths(self, root: Path, scratch: Path) -> tuple[str, str, str]:
        """(root, output, cwd) as the server sees them."""
        return str(root), str(self.output_path(scratch)), str(scratch)

    def launch(self, root: Path, scratch: Path, worker_args: list[str]) -> _ForkedProcess:
        uid = None
        output = self.output_path(scratch)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.touch()
        if self.root_mode:
            uid = self.uid_base + self._counter % 1000
            self._counter += 1
            if output.parent == scratch:  # the scratch folder is the worker's cwd: it must write there
                os.chown(scratch, uid, uid)
            os.chown(output, uid, uid)
        server_root, server_output, cwd = self._paths(root, scratch)
        parent, child = socket.socketpair()
        try:
            reply = self._request({"op": "spawn", "root": server_root, "output": server_output, "cwd": cwd,
                                   "args": worker_args, "uid": uid}, [child.fileno()])
        finally:
            child.close()
        return _ForkedProcess(self, int(reply["pid"]), parent, uid, cwd)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
