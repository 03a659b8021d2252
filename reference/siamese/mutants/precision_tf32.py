"""Mistake: the forward pass enables TF32 for its matmuls (CUDA only)."""

__requires_device__ = "cuda"

_SolutionSiameseModel = SiameseModel


class SiameseModel(_SolutionSiameseModel):
    def forward(self, x1, x2):
        previous = torch.backends.cuda.matmul.fp32_precision
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        try:
            return super().forward(x1, x2)
        finally:
            torch.backends.cuda.matmul.fp32_precision = previous
