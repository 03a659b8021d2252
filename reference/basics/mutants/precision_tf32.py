"""Mistake (precision): a matmul on TF32 matrix units (10-bit mantissa) for float32 inputs on CUDA.

A from-scratch matmul never reaches TF32; only a built-in product does, so this mutant uses
torch.mm with TF32 switched on inside the call (restored afterwards). It is caught by the
from-scratch check and by the float32 tolerance of the value checks.
"""

import torch

__requires_device__ = "cuda"

_solution_matmul = matmul


def matmul(a, b):
    if a.device.type != "cuda":
        return _solution_matmul(a, b)
    before = torch.backends.cuda.matmul.fp32_precision
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    try:
        return torch.mm(a, b)
    finally:
        torch.backends.cuda.matmul.fp32_precision = before
