"""Exercise `basics`: matmul, ReLU, a linear layer, mse and an MLP with hand-written backprop."""

from .basics import lin, matmul, mlp_forward_backward, mse, relu, sgd_step

__all__ = ["matmul", "relu", "lin", "mse", "mlp_forward_backward", "sgd_step"]
