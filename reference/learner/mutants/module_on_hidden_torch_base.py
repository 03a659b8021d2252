"""Mistake: Module is built on torch's nn.Module reached without its name (``nn.Identity.__base__``), and
the Parameter is torch's own the same way (forbidden however it is named)."""

_TorchModule = torch.nn.Identity.__base__


class Module(_TorchModule):  # noqa: F811
    pass


class Linear(Module):  # noqa: F811
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = Parameter(torch.randn(n_out, n_in) / math.sqrt(n_in))
        self.bias = Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight.T + self.bias

    def parameters(self):
        return [self.weight, self.bias]


class Sequential(Module):  # noqa: F811
    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers if isinstance(layer, Module) for p in layer.parameters()]
