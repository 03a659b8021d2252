"""The local backend isolates like the Docker one: what a worker can see, keep and send back.

Hostile submissions (tests/hostile_isolation/) go after the instructor's solution and hidden
checks, other students' code, fastai, the next student in their job slot and the grader's
memory. Under bubblewrap each one ends with 0 points and nothing found, nothing is left behind,
the flooding one is graded in seconds with the grader's memory flat, and the Docker backend gives
the same scores. The batch runs as whoever runs the tests; as root a second one runs as
``nobody`` (user namespaces), the path a normal user's machine takes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, TEST_LIMITS
from grader.reports.exports import read_grades_csv

ISOLATION = Path(__file__).resolve().parent / "hostile_isolation"
GRADE = [sys.executable, "-m", "grader.cli", "--course", str(REPO), "batch", "--lang", "en"]
#: Graded in this order in one job slot (names sort so): find_leftovers after leave_files.
CASES = ["run_solution", "read_reference", "other_students", "leave_files", "find_leftovers", "uses_fastai",
         "attack_server", "flood"]
SCRATCH = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")


def _mode():
    from grader._isolation import local_mode

    return local_mode()


needs_bwrap = pytest.mark.skipif(not _mode().bwrap, reason=f"bubblewrap cannot run here ({_mode().why}); "
                                 "make test installs it as root (scripts/ensure-bwrap.sh)")


def _package(folder: Path, source: str) -> None:
    folder.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / "conv" / "__init__.py", folder / "__init__.py")
    (folder / "conv.py").write_text(source)


def build(root: Path, cases: list[str], samples: bool = False) -> Path:
    """A victim (the solution, marked), the hostile cases, and the bundled samples."""
    subs = root / "submissions"
    _package(subs / "v_alice" / "conv", (REPO / "solutions" / "conv" / "conv.py").read_text() + "\n# VICTIM-SECRET\n")
    for i, case in enumerate(cases):
        _package(subs / f"h{i}_{case}" / "conv", (ISOLATION / f"{case}.py").read_text())
    if samples:
        for sample in (REPO / "examples" / "submissions").iterdir():
            shutil.copytree(sample, subs / f"sample_{sample.name}")
    return subs


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in map(int, f.read().split()):
                    found += [child, *_descendants(child)]
    except OSError:
        pass
    return found


def _memory(pid: int) -> tuple[int, int]:
    """(peak RSS, current anonymous RSS) of a process, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmHWM"].split()[0]) >> 10, int(fields["RssAnon"].split()[0]) >> 10


def run_batch(subs: Path, out: Path, *args: str, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None,
              timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], dict[str, int]]:
    """Run ``grade batch`` and watch the trusted processes' memory (the grader and its pool)."""
    command = [*prefix, *GRADE, str(subs), "--out", str(out), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "DL_GRADER_CALL_TIMEOUT": "3", **(env or {})})  # short endless loops
    peak = {"rss": 0, "anon": 0}

    def watch() -> None:
        while proc.poll() is None:
            for pid in [proc.pid, *_descendants(proc.pid)]:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read()
                    if b"grader.cli" in cmdline or b"multiprocessing.spawn" in cmdline:
                        rss, anon = _memory(pid)
                        peak["rss"], peak["anon"] = max(peak["rss"], rss), max(peak["anon"], anon)
                except (OSError, KeyError, ValueError):
                    pass
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate(timeout=timeout)
    watcher.join()
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr), peak


def results(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}


def grades(out: Path) -> list[dict[str, str]]:
    return read_grades_csv(out / "grades.csv")


def _torch_baseline() -> int:
    """Peak RSS (MiB) of a process that only imports what a pool process imports."""
    code = ("import torch, pytest, grader.runner\n"
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])")
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) >> 10


def leftovers() -> list[str]:
    found = []
    for folder in SCRATCH:
        for dirpath, dirnames, filenames in os.walk(folder):
            if dirpath.count(os.sep) - folder.count(os.sep) >= 2:
                dirnames[:] = []
            found += [os.path.join(dirpath, n) for n in filenames if n == "LEFTOVER-isolation-marker"]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"LEFTOVER-isolation-process" in f.read():
                    found.append(f"process {pid}")
        except OSError:
            pass
    with open("/proc/sysvipc/shm") as f:
        found += ["SysV segment" for line in list(f)[1:] if line.split()[0] == str(0x15015015)]
    return found


def check_hostile_outcome(out: Path, proc: subprocess.CompletedProcess[str], cases: list[str]) -> dict[str, dict]:
    assert proc.returncode == 0 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    got = results(out)
    assert got["v_alice"]["score"] == got["v_alice"]["max_score"] > 0, "the victim is graded as usual"
    for i, case in enumerate(cases):
        student = f"h{i}_{case}"
        feedback = (out / student / "feedback.md").read_text()
        assert got[student]["score"] == 0, (student, feedback[:2000])
        assert "FOUND-" not in feedback, (student, [line for line in feedback.splitlines() if "FOUND-" in line][:5])
        assert "VICTIM-SECRET" not in feedback
    if "flood" in cases:
        flood = f"h{cases.index('flood')}_flood"
        assert "refused unread" in (out / flood / "feedback.md").read_text()
        assert got[flood]["execution_time"] < 30, got[flood]["execution_time"]
    if "leave_files" in cases:  # it wrote its markers, and nobody found them (find_leftovers ran after it)
        left = (out / f"h{cases.index('leave_files')}_leave_files" / "feedback.md").read_text()
        assert "wrote /dev/shm" in left and "left a SysV segment" in left
    assert not leftovers(), leftovers()
    return got


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str], dict]:
    root = tmp_path_factory.mktemp("isolation")
    subs = build(root, CASES, samples=True)
    tmp = root / "grader-tmp"
    tmp.mkdir()
    started = time.monotonic()
    proc, peak = run_batch(subs, root / "out", "--backend", "local", "--jobs", "1", "--exercise", "conv",
                           env={"TMPDIR": str(tmp)})
    peak["seconds"] = int(time.monotonic() - started)
    return subs, root / "out", proc, peak | {"tmp": tmp}


@needs_bwrap
def test_local_workers_see_keep_and_send_nothing(local_batch):
    subs, out, proc, peak = local_batch
    assert "bubblewrap" not in proc.stdout.split("\n", 1)[0], "no fallback notice where bubblewrap works"
    check_hostile_outcome(out, proc, CASES)
    samples = {r["student_id"]: r for r in grades(out) if r["student_id"].startswith("sample_")}
    assert samples["sample_full_marks"]["total"] == samples["sample_full_marks"]["max_total"]
    # The grader reads no flood: its memory is what torch and pytest take, plus little.
    baseline = _torch_baseline()
    assert peak["rss"] < baseline + 200 and peak["anon"] < 500, (peak, baseline)
    assert not any(peak["tmp"].iterdir()), "the batch's own folders are gone"
    assert not _processes_mentioning(str(peak["tmp"])), "sandbox or worker processes left behind"


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


@needs_bwrap
@pytest.mark.skipif(not shutil.which("docker"), reason="no docker CLI")
def test_docker_backend_agrees(local_batch, tmp_path):
    from grader.docker_backend import docker_available

    if not docker_available():
        pytest.skip("no Docker engine answers (run scripts/ensure-docker.sh as root)")
    subs, out, _, _ = local_batch
    proc, _ = run_batch(subs, tmp_path / "out", "--backend", "docker", "--jobs", "2", "--exercise", "conv")
    check_hostile_outcome(tmp_path / "out", proc, CASES)
    assert grades(tmp_path / "out") == grades(out)


@needs_bwrap
def test_fresh_workers_are_sandboxed_too(tmp_path):
    cases = ["run_solution"]
    subs = build(tmp_path, cases)
    proc, _ = run_batch(subs, tmp_path / "out", "--backend", "local", "--fresh-workers", "--jobs", "2",
                        "--exercise", "conv")
    check_hostile_outcome(tmp_path / "out", proc, cases)


def _python_view_commands(view: Path) -> list[str] | None:
    """Shell lines that make this Python reachable for ``nobody`` in a private mount namespace
    (pyenv under /root, 0700, is not), or None when nothing is needed."""
    python = Path(os.path.realpath(sys.base_prefix))
    closed = [p for p in [*reversed(python.parents), python] if str(p) != "/" and not os.stat(p).st_mode & stat.S_IXOTH]
    if not closed:
        return []
    top = closed[0]
    if top == python:
        return None  # the installation itself is closed: nothing to rebind
    return [f"mkdir -p {view}", f"mount --rbind {python} {view}", f"mount -t tmpfs -o mode=0755 tmpfs {top}",
            f"mkdir -p {python}", f"mount --rbind {view} {python}"]


def _nobody_can_use_namespaces() -> bool:
    probe = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "unshare", "--user", "true"]
    return os.getuid() == 0 and shutil.which("setpriv") is not None and \
        subprocess.run(probe, capture_output=True).returncode == 0


@needs_bwrap
@pytest.mark.skipif(os.getuid() != 0, reason="the batch above already ran as a normal user")
@pytest.mark.skipif(not _nobody_can_use_namespaces(), reason="this kernel gives normal users no user namespaces")
def test_as_a_normal_user_with_user_namespaces(tmp_path):
    home = Path(tempfile.mkdtemp(prefix="grade-nobody-"))  # pytest's tmp_path is root's alone (0700)
    try:
        os.chmod(home, 0o755)
        cases = ["run_solution", "other_students", "leave_files", "find_leftovers", "uses_fastai", "attack_server",
                 "flood"]
        subs = build(home, cases)
        view = _python_view_commands(home / "python-view")
        if view is None or not all(os.stat(p).st_mode & stat.S_IXOTH for p in [REPO, *REPO.parents] if str(p) != "/"):
            pytest.skip("Python or the course is not reachable for nobody here")
        subprocess.run(["chown", "-R", "65534:65534", str(home)], check=True)
        script = "set -e\n" + "\n".join(view) + f'\ncd {home}\nexec setpriv --reuid=65534 --regid=65534 ' \
                 f'--clear-groups -- env HOME={home} TMPDIR={home} "$@"\n'
        (home / "run.sh").write_text(script)
        prefix = ("unshare", "--mount", "--propagation", "private", "--", "bash", str(home / "run.sh"))
        proc, _ = run_batch(subs, home / "out", "--backend", "local", "--jobs", "1", "--exercise", "conv",
                            prefix=prefix)
        assert "without bubblewrap" not in proc.stdout, proc.stdout[:500]
        check_hostile_outcome(home / "out", proc, cases)
    finally:
        subprocess.run(["umount", "-R", str(home / "python-view")], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_without_bubblewrap_the_batch_says_so_in_one_line(tmp_path):
    subs = tmp_path / "submissions"
    (subs / "empty").mkdir(parents=True)
    proc, _ = run_batch(subs, tmp_path / "out", "--backend", "local", "--jobs", "1", "--exercise", "conv",
                        env={"DL_GRADER_NO_BWRAP": "1"})
    first, rest = proc.stdout.split("\n", 1)
    assert first.startswith("Local backend without bubblewrap (DL_GRADER_NO_BWRAP is set): falling back to"), first
    assert "without bubblewrap" not in rest and ("setpriv" in first if os.getuid() == 0 else "own user" in first)


# -- the pieces, without a batch -------------------------------------------------------------


def test_oversized_replies_are_refused_before_they_are_read():
    from grader._wire import TooLarge, recv_sized

    for prefix, kwargs in [(struct.pack(">I", 60 << 20), {"max_header": 2 << 20}),  # a 60 MB header
                           (struct.pack(">I", 2) + b"{}" + struct.pack(">I", 1) + struct.pack(">Q", 100 << 20),
                            {"max_bytes": 16 << 20})]:  # one 100 MB blob
        ours, theirs = socket.socketpair()
        theirs.sendall(prefix)  # and nothing else: reading on would wait for bytes that never come
        started = time.monotonic()
        with pytest.raises(TooLarge):
            recv_sized(ours, time.monotonic() + 5, **kwargs)
        assert time.monotonic() - started < 1
        ours.close()
        theirs.close()


def test_reply_budget_fastai_blocker_and_private_pycache(tmp_path):
    """One plain worker (as ``grade check`` starts it): replies past the per-call and per-submission
    limits fail with a reason, fastai cannot be imported, a crafted __pycache__ file and a bare .pyc
    in the submission are not run, while libraries outside it load their own bytecode."""
    import py_compile

    from grader.sandbox import BadReply, Sandbox, StudentError, StudentImportError

    (tmp_path / "talker").mkdir()
    (tmp_path / "talker" / "__init__.py").write_text(
        "import importlib\n\ndef reply(n):\n    return 'x' * n\n\n"
        "def loader_of(name):\n    return type(importlib.import_module(name).__spec__.loader).__name__\n")
    (tmp_path / "uses_fastai").mkdir()
    (tmp_path / "uses_fastai" / "__init__.py").write_text("from fastai.vision.all import *\n")
    package = tmp_path / "pyc_trick"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 2\n")  # what a crafted bytecode file says ...
    py_compile.compile(str(package / "__init__.py"), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    mtime = os.stat(package / "__init__.py").st_mtime_ns
    (package / "__init__.py").write_text("VALUE = 1\n")  # ... and the source the scan reads, same size and time
    os.utime(package / "__init__.py", ns=(mtime, mtime))
    (tmp_path / "bare.py").write_text("VALUE = 3\n")
    py_compile.compile(str(tmp_path / "bare.py"), cfile=str(package / "bare.pyc"), doraise=True)
    (tmp_path / "bare.py").unlink()  # only the bytecode is left, inside the package: never importable
    limits = TEST_LIMITS.replace(call_reply_bytes=1 << 20, reply_header_bytes=2 << 20, submission_reply_bytes=3 << 20)
    with Sandbox(tmp_path, ["talker", "uses_fastai", "pyc_trick"], limits) as sandbox:
        assert sandbox.request("getattr", package="pyc_trick", path=["VALUE"]) == 1
        with pytest.raises(StudentError, match=r"pyc_trick/bare\.pyc is compiled code, and the grader imports only \.py"):
            sandbox.request("call", package="talker", path=["loader_of"], args=["pyc_trick.bare"])
        assert sandbox.request("call", package="talker", path=["loader_of"], args=["pyc_trick"]) == "_SourceOnlyLoader"
        assert sandbox.request("call", package="talker", path=["loader_of"], args=["fasttransform"]) == "SourceFileLoader"
        with pytest.raises(StudentImportError, match="not available to submitted code"):
            sandbox.request("import", package="uses_fastai")
        with pytest.raises(BadReply, match=r"sent back more than 1 MB, far more than any correct answer"):
            sandbox.request("call", package="talker", path=["reply"], args=[1_500_000])
        for _ in range(3):  # 2.7 MB in all (the refused reply was never read, so it does not count)
            assert len(sandbox.request("call", package="talker", path=["reply"], args=[900_000])) == 900_000
        for _ in range(2):  # the fourth would pass the 3 MB this submission may send; after that, nothing runs
            with pytest.raises(BadReply, match=r"more than the 3 MB that one submission may send in all"):
                sandbox.request("call", package="talker", path=["reply"], args=[900_000])


def test_bwrap_sandbox_shows_only_the_runtime(monkeypatch):
    from grader import _isolation

    monkeypatch.setattr(_isolation, "gpu_nodes", lambda: ["/dev/nvidia0", "/dev/nvidiactl"])
    cpu = _isolation.bwrap_command("bwrap-user", binds=[("/somewhere/stage", "/stage")])
    cuda = _isolation.bwrap_command("bwrap-user", device="cuda")
    pairs = {(cpu[i + 1], cpu[i + 2]) for i, arg in enumerate(cpu) if arg == "--ro-bind"}
    sources = {src for src, _ in pairs}
    assert str(REPO) not in sources and not any(s.startswith(str(REPO / "reference")) for s in sources)
    assert ("/somewhere/stage", "/stage") in pairs and {"--unshare-net", "--unshare-pid", "--die-with-parent"} <= set(cpu)
    for cover in _isolation.forbidden_covers(_isolation.runtime_roots()):  # fastai: an empty tmpfs
        assert cpu[cpu.index(cover) - 1] == "--tmpfs"
    assert "--dev-bind" not in cpu and cuda[cuda.index("/dev/nvidia0") - 1] == "--dev-bind"
    assert cpu[-4:] == ["--remount-ro", "/", "--chdir", "/tmp"], "the sandbox's own root is read-only"
