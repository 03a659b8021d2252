"""Mistake: Linear keeps its weight as (n_in, n_out) and computes x @ weight + bias (not nn.Linear's layout)."""


class Linear(Module):  # noqa: F811
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = Parameter(torch.randn(n_in, n_out) / math.sqrt(n_in))
        self.bias = Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias
