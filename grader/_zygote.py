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
- ``{"op": "kill", "pid"}``: SIGKILL the child's process group
- ``{"op": "status", "pid"}`` -> ``{"code": exit status or null while running}`` (negative: signal)
- ``{"op": "sweep", "uid", "cwd"}``: SIGKILL every process of that uid (children that escaped the
  group) and remove its scratch folder and its files in ``/dev/shm``
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


def _child(control: socket.socket, fd: int, request: dict[str, t.Any]) -> t.NoReturn:
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
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": request["cwd"],
                           "TMPDIR": request["cwd"], "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"})
        from . import _worker

        args = _worker.parse_args([f"--root={request['root']}", f"--output={request['output']}",
                                   *request.get("args", [])])
        _worker.run(socket.socket(fileno=fd), args)
        code = 0
    except BaseException:  # noqa: BLE001 - a child must never return into the server's loop
        code = SETUP_FAILED
        try:  # leave the reason where the grader shows the student's output
            import traceback

            with open(request.get("output", "/dev/null"), "a") as log:
                log.write("grader: could not set up the worker:\n" + traceback.format_exc())
        except BaseException:
            pass
    finally:
        os._exit(code)


def _sweep(uid: int, cwd: str | None) -> None:
    """Kill every process of ``uid`` (``kill(-1)`` as that uid reaches exactly those), then remove
    what it left in its scratch folder, ``/tmp`` and ``/dev/shm``, so the next submission starts clean."""
    if os.getuid() != 0 or uid <= 0:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            import shutil

            if cwd:
                shutil.rmtree(cwd, ignore_errors=True)
            for shared in ("/dev/shm", "/tmp", os.path.dirname(cwd or "/tmp")):
                for name in os.listdir(shared) if os.path.isdir(shared) else []:
                    path = os.path.join(shared, name)
                    try:
                        if os.lstat(path).st_uid != uid:
                            continue
                        if os.path.isdir(path) and not os.path.islink(path):
                            shutil.rmtree(path, ignore_errors=True)
                        else:
                            os.unlink(path)
                    except OSError:
                        pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    _statuses.pop(pid, None)


def serve(control: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, _reap)
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 1)
        except InterruptedError:
            continue
        if not data:  # the grader went away (finished, or killed): take every worker down with us
            for pid, uid in list(_children.items()):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                if uid is not None:
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
        if len(fds) != 1:
            raise ValueError("spawn needs exactly one socket")
        pid = os.fork()
        if pid == 0:
            _child(control, fds[0], request)
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
        _sweep(int(request["uid"]), request.get("cwd"))
        return {"ok": True}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="grader-zygote")
    parser.add_argument("--fd", type=int)
    parser.add_argument("--connect")
    parser.add_argument("--warm", action="append", default=[], help="extra modules to import up front")
    args = parser.parse_args(argv)
    if args.fd is not None:
        control = socket.socket(fileno=args.fd)
    else:
        control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.connect(args.connect)
    import warnings

    warnings.filterwarnings("ignore")
    import numpy  # noqa: F401
    import torch  # noqa: F401  (imported, never used here: forking stays safe)

    for name in args.warm:
        try:
            __import__(name)
        except Exception:  # a warm-up is an optimisation; the worker imports what it needs itself
            pass
    from . import _codec, _worker  # noqa: F401

    _codec._dtypes()
    sys.stdout.flush()
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    serve(control)


if __name__ == "__main__":
    main()
