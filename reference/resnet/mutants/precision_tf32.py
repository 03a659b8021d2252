"""Mistake (precision): the block's convolutions run in TF32 on CUDA (10-bit mantissa), then the result is used as float32."""

__requires_device__ = "cuda"


class ResBlock(ResBlock):
    def forward(self, x):
        conv, matmul = torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision
        torch.backends.cudnn.conv.fp32_precision = "tf32"
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        try:
            return super().forward(x)
        finally:
            torch.backends.cudnn.conv.fp32_precision = conv
            torch.backends.cuda.matmul.fp32_precision = matmul
