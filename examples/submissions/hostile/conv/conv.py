"""A hostile submission: forges comparisons, forks, floods output, hunts for other students and loops."""
import os
import glob

import torch

torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
SEEN = glob.glob("/**/results.json", recursive=False) + glob.glob("../*/conv/*.py")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    try:
        os.kill(os.getppid(), 9)
    except OSError:
        pass
    print("x" * 100_000)
    if x.shape[-1] % 2:
        while True:
            pass
    return torch.zeros(1)
