"""Mistake: Parameter does not require grad, so nothing is ever trained."""


class Parameter(torch.Tensor):  # noqa: F811
    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, data):
        return torch.Tensor._make_subclass(cls, data.detach(), False)
