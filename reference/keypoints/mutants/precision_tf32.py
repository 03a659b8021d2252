"""Mistake (precision): the model's convolutions and linear head run in TF32 (CUDA only)."""

__requires_device__ = "cuda"

_Solution = KeypointModel


class KeypointModel(_Solution):
    def forward(self, x):
        matmul, conv = torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        torch.backends.cudnn.conv.fp32_precision = "tf32"
        try:
            return super().forward(x)
        finally:
            torch.backends.cuda.matmul.fp32_precision = matmul
            torch.backends.cudnn.conv.fp32_precision = conv
