"""Mistake: Linear's matrix product runs in TF32 on the GPU (10-bit mantissa) for float32 inputs."""

__requires_device__ = "cuda"


class Linear(Linear):  # noqa: F811
    def forward(self, x):
        previous = torch.backends.cuda.matmul.fp32_precision
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        try:
            return x @ self.weight.T + self.bias
        finally:
            torch.backends.cuda.matmul.fp32_precision = previous
