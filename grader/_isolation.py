"""A private view of the machine for local workers, made with bubblewrap (``bwrap``).

``grade batch --backend local`` (GPU runners, machines without Docker) runs every worker, and
every warm fork server, inside a bubblewrap sandbox that mirrors the Docker backend:

- visible, read-only: ``/usr``, the Python installation, the virtual environment and the worker
  code; nothing else of the host (no course folder with ``solutions/`` or ``reference/``, no
  other student, no grader output, no home folder, no ``/etc`` but a few loader files);
- hidden even inside the venv: every package of :data:`~grader._limits.FORBIDDEN_IN_WORKER`
  (fastai), under an empty read-only tmpfs whose ``__init__.py`` raises ImportError;
- the student's own staged folder, read-only (``/submission``; a fork server sees only its job
  slot's ``stage/`` folder at ``/stage``, which holds the one student being graded);
- writable: size-limited tmpfs at ``/tmp`` (home and scratch), ``/var/tmp``, ``/run/lock`` and
  ``/dev/shm`` that vanish with the sandbox (the fork server sweeps them per worker);
- own network (none), PID, IPC, UTS and cgroup namespaces; killed with its parent.

Two ways to run it (:func:`local_mode` probes once per process which one works here):

- ``bwrap-root``: the grader is root. bwrap runs without a user namespace, drops every capability
  (a fork server keeps SETUID, SETGID, KILL and CHOWN to hand each worker a uid of its own), and a
  fresh worker switches to its own uid with ``setpriv`` before Python starts.
- ``bwrap-user``: the grader is a normal user; bwrap makes a user namespace (the kernel must allow
  unprivileged user namespaces). Workers keep the grader's uid but see and reach nothing else.

Where neither works the launchers fall back (``setpriv``: root, ``unshare --net`` and a uid per
worker, but the host's file system as that uid sees it; ``none``: the grader's own user) and
``grade batch`` says so in one line. The README's security section compares the four.
"""

from __future__ import annotations

import atexit
import functools
import glob
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

from ._limits import FORBIDDEN_IN_WORKER

__all__ = ["Mode", "local_mode", "bwrap_command", "setpriv_prefix", "fallback_notice", "forbidden_covers",
           "sweep", "grant_to_gid", "SCRATCH_DIRS", "BLOCKED_INIT"]

#: Writable folders of a worker, each a tmpfs of its own inside the sandbox (size in MiB).
SCRATCH_DIRS = {"/tmp": 256, "/var/tmp": 16, "/run/lock": 1, "/dev/shm": 64}
#: Bound over the ``__init__.py`` of a hidden package, so that importing it explains itself.
BLOCKED_INIT = str(Path(__file__).resolve().with_name("_blocked.py"))
#: Set to anything to make :func:`local_mode` skip bubblewrap (to try the fallbacks).
NO_BWRAP_ENV = "DL_GRADER_NO_BWRAP"
_GRADER_DIR = str(Path(__file__).resolve().parent)


class Mode(t.NamedTuple):
    #: ``bwrap-root``, ``bwrap-user``, ``setpriv`` or ``none``.
    name: str
    #: Why bubblewrap is not used ("" when it is).
    why: str

    @property
    def bwrap(self) -> bool:
        return self.name.startswith("bwrap")


def runtime_roots() -> list[str]:
    """Folders a worker needs to run Python, torch and the worker code (bound read-only, same path)."""
    paths = ["/usr", os.path.realpath(sys.base_prefix), sys.prefix, os.path.realpath(sys.prefix), _GRADER_DIR,
             os.path.dirname(os.path.realpath(sys.executable))]
    keep: list[str] = []
    for path in sorted({os.path.abspath(p) for p in paths if os.path.isdir(p)}):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in keep if os.path.realpath(k) == k):
            keep.append(path)
    return keep


def forbidden_covers(roots: t.Sequence[str]) -> list[str]:
    """Where each forbidden package's folder appears under ``roots`` (bound at their own paths)."""
    found: list[str] = []
    for name in FORBIDDEN_IN_WORKER:
        try:
            spec = importlib.util.find_spec(name)  # finds, never imports
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec is not None else []:
            found.append(os.path.realpath(location))
    covers = []
    for folder in found:
        for root in roots:
            real = os.path.realpath(root)
            if folder == real or folder.startswith(real.rstrip("/") + "/"):
                covers.append(os.path.join(root, os.path.relpath(folder, real)))
    return sorted(set(covers))


@functools.cache
def _etc_files() -> dict[str, str]:
    """A minimal /etc/passwd and /etc/group (the host's list every account)."""
    folder = tempfile.mkdtemp(prefix="grade-etc-")
    atexit.register(shutil.rmtree, folder, True)
    files = {"passwd": "root:x:0:0::/root:/usr/sbin/nologin\nnobody:x:65534:65534::/tmp:/usr/sbin/nologin\n",
             "group": "root:x:0:\nnogroup:x:65534:\n"}
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)
    os.chmod(folder, 0o755)
    return {f"/etc/{name}": os.path.join(folder, name) for name in files}


def gpu_nodes() -> list[str]:
    """The device nodes CUDA needs (``/dev/nvidia*``; ``/dev/dxg`` under WSL)."""
    return sorted(p for p in glob.glob("/dev/nvidia*") + glob.glob("/dev/dxg") if os.path.exists(p))


def bwrap_command(mode: str, *, binds: t.Sequence[tuple[str, str]] = (), caps: t.Sequence[str] = (),
                  device: str = "cpu", pid1: bool = False) -> list[str]:
    """The ``bwrap ...`` prefix of a sandboxed command (append ``--`` and the command).

    :param binds: ``(host path, sandbox path)`` pairs, bound read-only (the student's files).
    :param caps: capabilities kept in ``bwrap-root`` mode (all others are dropped).
    :param pid1: run the command as PID 1 of its namespace (a fork server: it reaps the orphans,
        and no worker can signal it).
    """
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if mode == "bwrap-user":
        args.insert(1, "--unshare-user")
    else:
        args += ["--cap-drop", "ALL", *(a for cap in caps for a in ("--cap-add", cap))]
    if pid1:
        args.append("--as-pid-1")
    roots = runtime_roots()
    # bwrap makes the parents of a mount point mode 0700: make them 0755 first, or no other uid
    # could reach the Python under /root/.pyenv or /var/tmp.
    dests = [*roots, *(dest for _, dest in binds), "/etc/passwd", *SCRATCH_DIRS]
    parents = sorted({str(p) for d in dests for p in Path(d).parents if str(p) != "/"}, key=lambda p: p.count("/"))
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for name in ("bin", "lib", "lib32", "lib64", "libx32", "sbin"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for root in roots:
        args += ["--ro-bind", root, root]
    for cover in forbidden_covers(roots):
        args += ["--size", str(1 << 16), "--tmpfs", cover, "--ro-bind", BLOCKED_INIT, f"{cover}/__init__.py",
                 "--remount-ro", cover]
    for dest, src in _etc_files().items():
        args += ["--ro-bind", src, dest]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime"):
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    if device in ("cuda", "auto"):
        for node in gpu_nodes():
            args += ["--dev-bind", node, node]
        args += ["--ro-bind-try", "/sys", "/sys"]  # the CUDA driver reads PCI and NUMA facts there
    for path, mb in SCRATCH_DIRS.items():
        args += ["--perms", "1777", "--size", str(mb << 20), "--tmpfs", path]
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    return [*args, "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp"]


def setpriv_prefix(uid: int | None) -> list[str]:
    """Switch to ``uid`` (its own group, no others) before the command runs (``bwrap-root`` mode)."""
    if uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def sandbox_env(home: str = "/tmp") -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "USER": "student", "LOGNAME": "student"}
    for key in ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _probe(mode: str) -> str:
    """'' when a sandboxed Python can import the worker in ``mode``, else why not."""
    if os.environ.get(NO_BWRAP_ENV):
        return f"{NO_BWRAP_ENV} is set"
    if not shutil.which("bwrap"):
        return "bwrap is not installed (Debian: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as empty:
        os.chmod(empty, 0o755)
        uid = 65534 if mode == "bwrap-root" else None
        command = [*bwrap_command(mode, binds=[(empty, "/submission")], caps=("CAP_SETUID", "CAP_SETGID")), "--",
                   *setpriv_prefix(uid), sys.executable, "-I", "-c", "import grader._worker"]
        try:
            proc = subprocess.run(command, capture_output=True, timeout=120, env=sandbox_env(), cwd=empty)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap could not be run ({exc})"
    if proc.returncode == 0:
        return ""
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return (lines[-1] if lines else f"exit status {proc.returncode}")[:200]


@functools.cache
def local_mode() -> Mode:
    """How this process isolates local batch workers (probed once: about 0.2 s)."""
    mode = "bwrap-root" if os.getuid() == 0 else "bwrap-user"
    why = _probe(mode)
    if not why:
        return Mode(mode, "")
    if os.getuid() == 0 and shutil.which("setpriv") and shutil.which("unshare"):
        return Mode("setpriv", why)
    return Mode("none", why)


def fallback_notice(mode: Mode | None = None) -> str:
    """One line for ``grade batch --backend local`` when bubblewrap cannot be used ("" when it can)."""
    mode = mode or local_mode()
    if mode.bwrap:
        return ""
    if mode.name == "setpriv":
        return (f"Local backend without bubblewrap ({mode.why}): falling back to unshare --net + setpriv, one uid "
                "per submission; workers have no network but can read what the host leaves world-readable "
                "(README: Security).")
    return (f"Local backend without bubblewrap ({mode.why}) and not root: falling back to plain child processes "
            "as your own user, with no file-system or network isolation (README: Security).")


def sweep(uid: int | None, cwd: str | None = None, everything: bool = False) -> None:
    """Kill a worker's leftovers and remove what it left in the scratch folders.

    ``uid``: as root, kill every process of that uid (``kill(-1)`` as that uid reaches exactly
    those) and remove its files in ``cwd`` and :data:`SCRATCH_DIRS`. ``everything``: in a fork
    server's own sandbox, where it is PID 1 and every other process and file belongs to the worker
    it just stopped, kill them all and empty the scratch folders. Anything else: nothing to do.
    """
    if uid is not None and (os.getuid() != 0 or uid <= 0):
        return
    if uid is None and not (everything and os.getpid() == 1):
        return  # outside its own PID namespace kill(-1) would reach the user's other processes
    pid = os.fork()
    if pid == 0:
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            try:
                os.kill(-1, signal.SIGKILL)  # never the caller, never PID 1
            except ProcessLookupError:
                pass
            if cwd:
                shutil.rmtree(cwd, ignore_errors=True)
            for folder in (*SCRATCH_DIRS, os.path.dirname(cwd) if cwd else "/tmp"):
                _empty(folder, uid)
            _remove_sysv_ipc(uid)
        finally:
            os._exit(0)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # a SIGCHLD handler (the fork server's) reaped it first


def _remove_sysv_ipc(uid: int | None) -> None:
    """Remove the SysV shared memory, semaphores and message queues of ``uid`` (all: ``None``),
    which would otherwise outlive the worker in the IPC namespace its successors share."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    remove = {"shm": lambda i: libc.shmctl(i, 0, None), "sem": lambda i: libc.semctl(i, 0, 0),
              "msg": lambda i: libc.msgctl(i, 0, None)}  # IPC_RMID
    for kind, rmid in remove.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = [line.split() for line in f]
        except (OSError, ValueError):
            continue
        id_col, uid_col = 1, header.index("uid") if "uid" in header else -1
        for row in rows:
            try:
                if uid is None or (uid_col >= 0 and int(row[uid_col]) == uid):
                    rmid(int(row[id_col]))
            except (ValueError, IndexError):
                continue


def _empty(folder: str, uid: int | None) -> None:
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            if uid is not None and os.lstat(path).st_uid != uid:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def grant_to_gid(root: Path, gid: int) -> None:
    """Let group ``gid`` read ``root`` and nobody else (fallback mode: the worker of uid ``gid`` must
    read its own staged files, and no other worker may)."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, 0, gid)
        os.chmod(dirpath, 0o750)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chown(path, 0, gid)
                os.chmod(path, 0o640)
