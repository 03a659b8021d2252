"""Mistake: Module is built on torch's nn.Module (forbidden: it is what the exercise asks to write)."""

from torch import nn


class Module(nn.Module):  # noqa: F811
    pass


class Linear(Module):  # noqa: F811
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) / math.sqrt(n_in))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class Sequential(Module):  # noqa: F811
    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
