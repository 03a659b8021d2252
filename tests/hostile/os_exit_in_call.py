"""Kill the worker from inside the call."""
import os


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    os._exit(3)
