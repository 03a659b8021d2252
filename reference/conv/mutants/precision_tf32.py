"""Mistake: the matrix product runs with TF32 enabled (10-bit mantissa on NVIDIA tensor cores)."""

__requires_device__ = "cuda"
_solution_conv2d = conv2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    previous = torch.backends.cuda.matmul.fp32_precision
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    try:
        return _solution_conv2d(x, weight, bias, stride, padding, dilation)
    finally:
        torch.backends.cuda.matmul.fp32_precision = previous
