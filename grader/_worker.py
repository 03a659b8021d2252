"""The sandboxed worker: the only process that imports and runs student code.

Started as ``python -I -m grader._worker --fd N --root DIR ...``. It applies its resource limits,
sends its student output to a file, imports torch (so the student's import is cheap), imports the
student's package, then serves requests on the socket until the grader closes it.

Nothing here is trusted by the grader: a student can patch any of it from inside. The grader only
ever decodes *data* from this process (see ``_codec``), and expected values never come here.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import importlib.machinery
import itertools
import os
import resource
import socket
import sys
import traceback
import types
import typing as t
import warnings

from . import _codec
from ._limits import FORBIDDEN_IN_WORKER, apply_limits
from ._wire import PeerClosed, recv_message, send_message

_MAX_TEXT = 8000


class _Worker:
    def __init__(self, root: str, sock: socket.socket) -> None:
        self.root = os.path.realpath(root)
        self.sock = sock
        self.handles: dict[int, object] = {}
        self.ids = itertools.count(1)
        self.packages: dict[str, object] = {}
        self.import_errors: dict[str, dict[str, t.Any]] = {}
        #: Modules each student package brought in: while it was imported, and during calls of it
        #: (or of objects it returned). Kept per package, because one worker serves all of a
        #: student's exercises and a module one exercise may use can be forbidden in another.
        self.package_modules: dict[str, set[str]] = {}
        self.handle_package: dict[int, str] = {}
        self.current_package: str | None = None
        self.scenario_modules: dict[str, types.ModuleType] = {}

    # -- handles -----------------------------------------------------------------------
    def to_handle(self, obj: object) -> dict[str, t.Any]:
        hid = next(self.ids)
        self.handles[hid] = obj
        if self.current_package is not None:
            self.handle_package[hid] = self.current_package
        kind = type(obj)
        try:
            text = object.__repr__(obj) if kind.__repr__ is object.__repr__ else repr(obj)
        except BaseException:  # a crafted __repr__ must not break the reply
            text = f"<{kind.__qualname__}>"
        return {"$handle": hid, "type": f"{kind.__module__}.{kind.__qualname__}"[:200], "repr": str(text)[:200]}

    def from_handle(self, handle: _codec.Handle) -> object:
        if handle.id not in self.handles:
            raise LookupError(f"remote object {handle.id} no longer exists")
        return self.handles[handle.id]

    # -- student package ---------------------------------------------------------------
    def package(self, name: str) -> object:
        if name in self.import_errors:
            raise _ImportFailed(self.import_errors[name])
        if name not in self.packages:
            if not name.isidentifier():
                raise ValueError(f"bad package name {name!r}")
            before = set(sys.modules)
            try:
                self.packages[name] = importlib.import_module(name)
                self.package_modules.setdefault(name, set()).update(set(sys.modules) - before)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt included
                self.import_errors[name] = self.describe(exc, "import")
                raise _ImportFailed(self.import_errors[name]) from None
        return self.packages[name]

    def describe(self, exc: BaseException, where: str) -> dict[str, t.Any]:
        """Explain an exception the student's code raised, with only the student's frames."""
        kind = type(exc)
        try:
            message = str(exc)
        except BaseException:
            message = "<the exception's __str__ failed>"
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if os.path.realpath(f.filename).startswith(self.root + os.sep)]
        if isinstance(exc, SyntaxError) and exc.filename:
            frames = []
            message = f"{exc.msg} ({os.path.basename(exc.filename)}, line {exc.lineno})"
        for f in frames:
            f.filename = os.path.relpath(f.filename, self.root)
        text = "".join(traceback.format_list(frames))
        return {"type": kind.__name__[:100], "mro": [k.__name__[:100] for k in kind.__mro__][:20],
                "message": message[:_MAX_TEXT], "traceback": text[-_MAX_TEXT:], "where": where}

    # -- requests ----------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            try:
                header, blobs = recv_message(self.sock)
            except PeerClosed:
                return
            reply, out_blobs = self.handle(header, blobs)
            _flush()
            send_message(self.sock, reply, out_blobs)

    def handle(self, header: dict[str, t.Any], blobs: list[bytes]) -> tuple[dict[str, t.Any], list[bytes]]:
        out_blobs: list[bytes] = []
        op = header.get("op")
        recorder = None
        try:
            if op == "release":
                for hid in header.get("ids", []):
                    self.handles.pop(hid, None)
                return {"ok": True, "value": None}, out_blobs
            if op == "import":
                module = self.package(header["package"])
                api = sorted(n for n in dir(module) if not n.startswith("_"))
                return {"ok": True, "value": api}, out_blobs
            if op == "modules":
                self.package(header["package"])
                new = sorted(str(m) for m in self.package_modules.get(header["package"], set()))
                return {"ok": True, "value": new[:5000]}, out_blobs
            target = (self.from_handle(_codec.Handle(header["target"], "", "")) if header.get("target")
                      else self.package(header["package"]))
            self.current_package = (self.handle_package.get(header["target"]) if header.get("target")
                                    else header.get("package"))
            modules_before = set(sys.modules)
            args = _codec.decode(header.get("args", []), blobs, self.from_handle)
            kwargs = _codec.decode(header.get("kwargs", {"$dict": []}), blobs, self.from_handle)
            if header.get("record_ops"):
                recorder = _op_recorder()
            if recorder is not None:
                recorder.__enter__()
            try:
                if op == "scenario":
                    value = self.run_scenario(header, target, args, kwargs)
                else:
                    value = self.run(op, target, header.get("path", []), args, kwargs)
            finally:
                if recorder is not None:
                    recorder.__exit__(None, None, None)
            reply = {"ok": True, "value": _codec.encode(value, out_blobs, self.to_handle)}
        except _ImportFailed as exc:
            return {"ok": False, "error": exc.args[0]}, []
        except BaseException as exc:  # student code may raise anything, SystemExit included
            return {"ok": False, "error": self.describe(exc, "call"),
                    "ops": sorted(recorder.ops) if recorder else []}, []
        finally:
            self._attribute_modules(locals().get("modules_before"))
        if recorder is not None:
            reply["ops"] = sorted(recorder.ops)
        return reply, out_blobs

    def _attribute_modules(self, before: set[str] | None) -> None:
        """Charge modules imported during this request to the package it served (a tripwire)."""
        if self.current_package is not None and before is not None:
            self.package_modules.setdefault(self.current_package, set()).update(set(sys.modules) - before)
        self.current_package = None

    def run_scenario(self, header: dict[str, t.Any], package: object, args: t.Any, kwargs: t.Any) -> object:
        """Run the public scenario ``header["path"][0]`` against the student's package.

        The scenario's source comes with the request (it is public: ``checks/<name>/scenarios.py``),
        so the worker needs no access to the checks folder. Seeds, threads and the CPU budget are
        set here; the student can undo all of it, which is why checks never take the result at
        its word (see CONTRIBUTING.md).
        """
        from ._seeding import deterministic

        source, filename = str(header["source"]), str(header.get("filename", "scenarios.py"))
        key = hashlib.sha256(source.encode()).hexdigest()
        if key not in self.scenario_modules:
            module = types.ModuleType(f"grader_scenarios_{key[:12]}", f"scenarios from {filename}")
            module.__file__ = filename
            sys.modules[module.__name__] = module
            exec(compile(source, filename, "exec"), module.__dict__)
            self.scenario_modules[key] = module
        function = getattr(self.scenario_modules[key], header["path"][0])
        budget = header.get("cpu_budget")
        seed = int(header.get("seed", 0))
        with _cpu_budget(budget if isinstance(budget, (int, float)) else None), deterministic(seed):
            return function(package, *args, seed=seed, **kwargs)

    def run(self, op: str | None, target: object, path: list[str], args: t.Any, kwargs: t.Any) -> object:
        for name in path[:-1] if op == "setattr" else path:
            target = getattr(target, name)
        if op == "getattr":
            return target
        if op == "setattr":
            setattr(target, path[-1], args[0])
            return None
        if op == "call":
            return target(*args, **kwargs)  # type: ignore[operator]
        raise ValueError(f"unknown request {op!r}")


class _ImportFailed(Exception):
    pass


@contextlib.contextmanager
def _cpu_budget(seconds: float | None) -> t.Iterator[None]:
    """Lower the soft ``RLIMIT_CPU`` to what this process used so far plus ``seconds``.

    Past it the kernel sends SIGXCPU and the worker dies; the trusted side explains the budget.
    The soft limit is raised back to the hard one afterwards.
    """
    if not seconds:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))
    except (ValueError, OSError):
        pass
    try:
        yield
    finally:
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        except (ValueError, OSError):
            pass


def _op_recorder() -> t.Any:
    """A dispatch-level record of every aten op that runs, however it was reached."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class OpRecorder(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False  # True makes torch wrap the hook with dynamo: a 1.8 s import on first use

        def __init__(self) -> None:
            super().__init__()
            self.ops: set[str] = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            self.ops.add(func._schema.name)
            return func(*args, **(kwargs or {}))

    return OpRecorder()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _redirect_output(path: str | None, fd: int | None = None) -> None:
    """Send fds 1 and 2 (and so the student's prints and C-level writes) to ``path`` or to the
    open file ``fd`` (a sandbox that cannot see the grader's file gets it opened)."""
    if fd is None:
        assert path is not None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for target in (1, 2):
        if fd != target:
            os.dup2(fd, target)
    if fd not in (1, 2):
        os.close(fd)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)


def _connect(args: argparse.Namespace) -> socket.socket:
    if args.fd is not None:
        return socket.socket(fileno=args.fd)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.connect)
    return sock


class _Unavailable:
    """A meta-path finder that refuses the packages of :data:`FORBIDDEN_IN_WORKER` (fastai).

    Defense in depth: under bubblewrap and Docker the package's folder is not there at all (an
    empty tmpfs covers it), but a student's own ``grade check`` runs the worker as a plain child
    process, where this finder is all that stands in the way, and student code can remove it.
    Nothing decides a grade on it; the trusted source scan and the checks do.
    """

    def find_spec(self, fullname: str, path: t.Any = None, target: t.Any = None) -> None:
        if fullname.partition(".")[0] in FORBIDDEN_IN_WORKER:
            raise ModuleNotFoundError(f"No module named {fullname!r}: {fullname.partition('.')[0]} is not available "
                                      "to submitted code (the grader runs your code without it)", name=fullname)
        return None

    def invalidate_caches(self) -> None:
        pass


def _block_forbidden() -> None:
    for name in [m for m in sys.modules if m.partition(".")[0] in FORBIDDEN_IN_WORKER]:
        del sys.modules[name]  # a warm fork server must not hand them down either
    sys.meta_path.insert(0, _Unavailable())  # type: ignore[arg-type]


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles the module from its source every time: never reads bytecode (nor writes it)."""

    def get_code(self, fullname: str) -> types.CodeType:
        return self.source_to_code(self.get_data(self.path), self.path)  # type: ignore[arg-type]


class _SourceOnlyFinder(importlib.machinery.FileFinder):
    """Finds ``.py`` files and packages only; a compiled file in their place is named in the error."""

    base = ""

    def find_spec(self, fullname: str, target: t.Any = None) -> t.Any:
        spec = super().find_spec(fullname, target)
        if spec is None:
            tail = fullname.rpartition(".")[2]
            for suffix in (*importlib.machinery.BYTECODE_SUFFIXES, *importlib.machinery.EXTENSION_SUFFIXES):
                path = os.path.join(self.path, tail + suffix)
                if os.path.isfile(path):
                    shown = os.path.relpath(path, self.base) if self.base else path
                    raise ModuleNotFoundError(f"No module named {fullname!r}: {shown} is compiled code, and the "
                                              "grader imports only .py source files from your submission",
                                              name=fullname)
        return spec


def _source_only(root: str) -> None:
    """Import the student's modules from their source alone; everything else as Python always does.

    A crafted ``__pycache__/x.cpython-311.pyc`` whose header matches ``x.py`` would otherwise run
    instead of the source that the trusted from-scratch scan reads (the scan relies on this: what it
    reads is what runs). So every folder inside the submission gets a finder that knows only ``.py``
    files and this loader: no ``__pycache__``, no bare ``.pyc``, no ``.so`` there is ever loaded (a
    zip archive on ``sys.path`` is left to zipimport, as before: the scan fails every archive and
    binary file it finds). Libraries outside the submission (the venv, read-only in the sandboxes) keep their
    bytecode: compiling fasttransform, plum and beartype from source cost each worker 0.4 s, where
    loading their bytecode costs 0.15 s (a private ``sys.pycache_prefix`` did that before 2026-12-03).
    """
    base = os.path.realpath(root)
    _SourceOnlyFinder.base = base

    def inside(path: str) -> bool:
        real = os.path.realpath(path or os.getcwd())
        return real == base or real.startswith(base + os.sep)

    def hook(path: str) -> _SourceOnlyFinder:
        if not inside(path) or not os.path.isdir(path or os.getcwd()):
            raise ImportError("not a folder of the submission")  # the next hooks (zip, then files) decide
        return _SourceOnlyFinder(path, (_SourceOnlyLoader, importlib.machinery.SOURCE_SUFFIXES))

    sys.path_hooks.insert(0, hook)
    for path in [p for p in sys.path_importer_cache if p is not None and inside(p)]:
        del sys.path_importer_cache[path]


def preimport() -> None:
    """What a worker imports anyway, imported before the student's code; a warm fork server calls it
    before it forks."""
    import numpy  # noqa: F401  (the student's import then costs nothing)
    import torch  # noqa: F401

    for name in ("numpy.random", "torch.utils._python_dispatch", "grader._seeding"):
        try:  # seeding and the op recorder; an optimisation (a uid that cannot read them fails later, clearly)
            importlib.import_module(name)
        except ImportError:
            pass


def _setup_torch(threads: int, gpu_share: float = 0.0) -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    preimport()
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    if torch.cuda.is_available():
        if gpu_share > 0:
            torch.cuda.set_per_process_memory_fraction(min(gpu_share, 1.0))
        torch.backends.cudnn.deterministic = True
        try:
            torch.backends.cudnn.conv.fp32_precision = "ieee"  # type: ignore[attr-defined]
            torch.backends.cuda.matmul.fp32_precision = "ieee"  # type: ignore[attr-defined]
        except AttributeError:
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grader-worker")
    parser.add_argument("--fd", type=int)
    parser.add_argument("--connect")
    parser.add_argument("--root", required=True, help="folder that holds the student's packages")
    parser.add_argument("--output", help="file for the student's stdout and stderr")
    parser.add_argument("--output-fd", type=int, help="open file for the student's stdout and stderr")
    parser.add_argument("--preload", action="append", default=[])
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--cpu-s", type=int, default=0)
    parser.add_argument("--fsize-mb", type=int, default=0)
    parser.add_argument("--nproc", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--gpu-share", type=float, default=0.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run(_connect(args), args)


def run(sock: socket.socket, args: argparse.Namespace) -> None:
    """Limit this process, import the student's packages and serve ``sock`` until it closes.

    Entered by ``main`` in a fresh interpreter, or by a fork of the warm ``_zygote``.
    """
    apply_limits(args.memory_mb, args.cpu_s, args.fsize_mb, args.nproc)
    _redirect_output(args.output, args.output_fd)
    _block_forbidden()
    _setup_torch(args.threads, args.gpu_share)
    sys.dont_write_bytecode = True
    _source_only(args.root)
    sys.path.insert(0, args.root)
    worker = _Worker(args.root, sock)
    for name in args.preload:
        try:
            worker.package(name)
        except _ImportFailed:
            pass  # remembered; every request for this package answers with the import error
    _flush()
    send_message(sock, {"op": "ready", "pid": os.getpid(), "import_errors": worker.import_errors})
    worker.serve()


if __name__ == "__main__":
    main()
