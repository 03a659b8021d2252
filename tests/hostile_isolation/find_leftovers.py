"""Graded after leave_files in the same job slot: report what an earlier student left behind."""
import os

_report = []
for _folder in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", os.path.dirname(os.getcwd()), os.path.expanduser("~")):
    try:
        for _root, _dirs, _files in os.walk(_folder):
            if "LEFTOVER-isolation-marker" in _files:
                _report.append(f"FOUND-LEFTOVER {os.path.join(_root, 'LEFTOVER-isolation-marker')}")
    except OSError:
        pass
for _pid in os.listdir("/proc"):
    try:
        with open(f"/proc/{_pid}/cmdline", "rb") as _f:
            if b"LEFTOVER-isolation-process" in _f.read():
                _report.append(f"FOUND-LEFTOVER process {_pid}")
    except OSError:
        pass

try:
    with open("/proc/sysvipc/shm") as _f:
        if any(line.split()[0] == str(0x15015015) for line in list(_f)[1:]):
            _report.append("FOUND-LEFTOVER SysV segment")
except OSError:
    pass


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    print(*(_report or ["nothing left behind"]), sep="\n")
    raise NotImplementedError("only looking")
