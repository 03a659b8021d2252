"""Mistake: the kernel is assumed square (kW taken as kH) in an explicit-loop implementation."""

import torch


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    o, c, k, _ = weight.shape
    xp = torch.nn.functional.pad(x, (pw, pw, ph, ph))
    h_out = (xp.shape[2] - dh * (k - 1) - 1) // sh + 1
    w_out = (xp.shape[3] - dw * (k - 1) - 1) // sw + 1
    out = torch.zeros(x.shape[0], o, h_out, w_out, dtype=x.dtype, device=x.device)
    for a in range(k):
        for b in range(min(k, weight.shape[3])):
            patch = xp[:, :, a * dh: a * dh + sh * (h_out - 1) + 1: sh, b * dw: b * dw + sw * (w_out - 1) + 1: sw]
            out += torch.einsum("nchw,oc->nohw", patch, weight[:, :, a, b])
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)
