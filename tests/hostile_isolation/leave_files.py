"""Leave files (and a process, and SysV shared memory) behind for later students, in every place a
worker may write."""
import ctypes
import os
import subprocess
import sys

_report = []
for _folder in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", os.getcwd(), os.path.expanduser("~"), "/io"):
    try:
        with open(os.path.join(_folder, "LEFTOVER-isolation-marker"), "w") as _f:
            _f.write("left behind")
        _report.append(f"wrote {_folder}")
    except OSError as exc:
        _report.append(f"cannot write {_folder} ({exc.strerror})")
try:  # a process that escapes its group and lingers
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # LEFTOVER-isolation-process"],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _report.append("started a lingering process")
except OSError as exc:
    _report.append(f"cannot start a process ({exc})")

try:  # a SysV shared memory segment (key 0x15015015), which outlives its creator unless removed
    _id = ctypes.CDLL(None, use_errno=True).shmget(0x15015015, 4096, 0o1000 | 0o666)
    _report.append("left a SysV segment" if _id >= 0 else f"no SysV segment ({os.strerror(ctypes.get_errno())})")
except Exception as exc:
    _report.append(f"no SysV segment ({exc})")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    print(*_report, sep="\n")
    raise NotImplementedError("only leaving things behind")
