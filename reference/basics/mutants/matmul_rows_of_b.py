"""Mistake: loops that multiply row i of a with row j of b (instead of column j)."""

import torch


def matmul(a, b):
    n, m = a.shape[0], b.shape[1]
    c = torch.zeros(n, m, dtype=a.dtype, device=a.device)
    for i in range(n):
        for j in range(m):
            c[i, j] = (a[i, :] * b[j, :]).sum()
    return c
