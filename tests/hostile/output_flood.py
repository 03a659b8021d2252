"""Print gigabytes."""
import sys

line = "spam " * 2000 + "\n"


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    for _ in range(300_000):  # 3 GB
        sys.stdout.write(line)
    return x
