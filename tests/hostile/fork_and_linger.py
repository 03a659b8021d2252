"""Fork children that outlive the call, then return a wrong answer."""
import os
import time


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    for _ in range(3):
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
    return x
