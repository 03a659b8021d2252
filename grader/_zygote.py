"""The warm fork server: import torch once, then fork one fresh worker per submission.

Importing torch costs about 2 s of CPU; the checks of one exercise often cost a few hundred ms.
So batch grading keeps one of these per job slot. It imports torch and numpy (never runs a torch
op, never touches CUDA, so forking stays safe), then waits on a ``SOCK_SEQPACKET`` control socket.

Each ``spawn`` request carries the worker's end of a socket pair (``SCM_RIGHTS``). The child
starts its own session, switches to the uid it was given (when the server runs as root, so each
submission has its own unprivileged uid: it cannot signal other students' workers, and
``RLIMIT_NPROC`` counts only its own processes), moves to its scratch folder and becomes an
ordinary worker (``_worker.run``). Nothing a child does reaches the server or later children.

Requests (one JSON object per packet), answered with one JSON object:

- ``{"op": "spawn", "root", "output", "cwd", "args": [...], "uid": int|null}`` + fd -> ``{"pid"}``
  (a second fd, when sent, is the open output file: a sandboxed server cannot see the grader's)
- ``{"op": "kill", "pid"}``: SIGKILL the child's process group
- ``{"op": "status", "pid"}`` -> ``{"code": exit status or null while running}`` (negative: signal)
- ``{"op": "sweep", "uid", "cwd"}``: SIGKILL every process of that uid (children that escaped the
  group) and remove its scratch folder and its files in ``/tmp``, ``/var/tmp``, ``/run/lock`` and
  ``/dev/shm``; in a sandbox of its own without a uid per child (``--sandboxed``, a normal user's
  bubblewrap) every process but the server (PID 1 there) and every file in those folders

Under bubblewrap (``--sandboxed``) the server is PID 1 of the sandbox: no worker can signal it
(PID 1 only gets the signals it handles), and it reaps the orphans. Without a uid per child it
makes itself non-dumpable, so a worker of the same uid cannot ptrace it or read its memory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import typing as t

#: Exit status of a forked child that failed before any student code ran.
SETUP_FAILED = 71
_statuses: dict[int, int] = {}
#: Live children and their uids, so that they die with the server when the grader goes away.
_children: dict[int, int | None] = {}
#: Whether this server runs in a sandbox of its own, as its PID 1 (``--sandboxed``).
_sandboxed = False
_PR_SET_DUMPABLE = 4


def _set_dumpable(value: int) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, value, 0, 0, 0)


def _reap(signum: int = 0, frame: t.Any = None) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _statuses[pid] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _children.pop(pid, None)
        if len(_statuses) > 10_000:
            _statuses.pop(next(iter(_statuses)))


def _child(control: socket.socket, fd: int, request: dict[str, t.Any], output_fd: int | None = None) -> t.NoReturn:
    code = 70
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        uid = request.get("uid")
        os.makedirs(request["cwd"], mode=0o700, exist_ok=True)
        if isinstance(uid, int) and os.getuid() == 0:
            os.chown(request["cwd"], uid, uid)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        elif _sandboxed:
            _set_dumpable(1)  # the server is not; the worker may be (its own processes look at it)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": request["cwd"],
                           "TMPDIR": request["cwd"], "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"})
        from . import _worker

        output = f"--output-fd={output_fd}" if output_fd is not None else f"--output={request['output']}"
        args = _worker.parse_args([f"--root={request['root']}", output, *request.get("args", [])])
        _worker.run(socket.socket(fileno=fd), args)
        code = 0
    except BaseException:  # noqa: BLE001 - a child must never return into the server's loop
        code = SETUP_FAILED
        try:  # leave the reason where the grader shows the student's output
            import traceback

            with (open(output_fd, "a", closefd=False) if output_fd is not None
                  else open(request.get("output") or "/dev/null", "a")) as log:
                log.write("grader: could not set up the worker:\n" + traceback.format_exc())
        except BaseException:
            pass
    finally:
        os._exit(code)


def _sweep(uid: int | None, cwd: str | None) -> None:
    """Kill what a worker left running and remove its files, so the next submission starts clean."""
    from ._isolation import sweep

    sweep(uid, cwd, everything=_sandboxed)
    _reap()


def serve(control: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, _reap)
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 2)
        except InterruptedError:
            continue
        if not data:  # the grader went away (finished, or killed): take every worker down with us
            for pid, uid in list(_children.items()):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                if uid is not None or _sandboxed:
                    _sweep(uid, None)
            return
        try:
            request = json.loads(data)
            reply = _handle(control, request, fds)
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        control.send(json.dumps(reply).encode())


def _handle(control: socket.socket, request: dict[str, t.Any], fds: list[int]) -> dict[str, t.Any]:
    op = request.get("op")
    if op == "spawn":
        if len(fds) not in (1, 2):
            raise ValueError("spawn needs a socket (and perhaps the output file)")
        pid = os.fork()
        if pid == 0:
            _child(control, fds[0], request, fds[1] if len(fds) == 2 else None)
        uid = request.get("uid")
        _children[pid] = uid if isinstance(uid, int) else None
        return {"pid": pid}
    if op == "kill":
        try:
            os.killpg(int(request["pid"]), signal.SIGKILL)
        except ProcessLookupError:
            pass
        return {"ok": True}
    if op == "status":
        _reap()
        return {"code": _statuses.get(int(request["pid"]))}
    if op == "sweep":
        uid = request.get("uid")
        _sweep(int(uid) if uid is not None else None, request.get("cwd"))
        return {"ok": True}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="grader-zygote")
    parser.add_argument("--fd", type=int)
    parser.add_argument("--connect")
    parser.add_argument("--warm", action="append", default=[], help="extra modules to import up front")
    parser.add_argument("--role", default="grade", help="what the server is for (grade, validate): shown in ps")
    parser.add_argument("--sandboxed", action="store_true", help="PID 1 of a bubblewrap sandbox of its own")
    args = parser.parse_args(argv)
    global _sandboxed
    _sandboxed = args.sandboxed and os.getpid() == 1
    if _sandboxed:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as PID 1, a handled signal is one a worker could send
        if os.getuid() != 0:
            _set_dumpable(0)
    if args.fd is not None:
        control = socket.socket(fileno=args.fd)
    else:
        control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.connect(args.connect)
    import warnings

    warnings.filterwarnings("ignore")
    import numpy  # noqa: F401
    import torch  # noqa: F401  (imported, never used here: forking stays safe)

    from ._limits import FORBIDDEN_IN_WORKER

    for name in args.warm:
        if name.partition(".")[0] in FORBIDDEN_IN_WORKER:
            continue  # never in a worker, so never in the server its workers are forked from
        try:
            __import__(name)
        except Exception:  # a warm-up is an optimisation; the worker imports what it needs itself
            pass
    from . import _codec, _worker

    _worker.preimport()
    _codec._dtypes()
    sys.stdout.flush()
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    serve(control)


if __name__ == "__main__":
    main()
