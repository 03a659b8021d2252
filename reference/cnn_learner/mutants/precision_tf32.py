"""Precision mistake: the head's forward runs its Linear layers with TF32 matmuls enabled (CUDA only)."""

__requires_device__ = "cuda"

import types as _types

_solution_create_head = create_head


def _tf32_forward(self, x):
    old = torch.backends.cuda.matmul.fp32_precision
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    try:
        return nn.Sequential.forward(self, x)
    finally:
        torch.backends.cuda.matmul.fp32_precision = old


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    head = _solution_create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool, first_bn=first_bn,
                                 bn_final=bn_final)
    head.forward = _types.MethodType(_tf32_forward, head)
    return head
