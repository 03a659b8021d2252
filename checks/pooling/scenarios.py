"""Scenarios for `pooling`: code that runs inside the sandbox, with your package as ``impl``.

``backward`` pools a tensor, back-propagates a given output gradient and returns the values and the
gradient of the input. The grader compares them with torch's autograd on the same tensors, so it
checks that gradients flow through your pooling exactly as through torch's.
"""

import torch


def backward(impl, *, seed, op, x, grad_out, args=(), kwargs=None):
    """``op(x, *args, **kwargs)`` (a function of ``impl``, or the concat-pool module), then backward."""
    x = x.clone().requires_grad_(True)
    if op == "AdaptiveConcatPool2d":
        # inside an nn.Sequential, as in a CNN head: that needs a real nn.Module
        model = torch.nn.Sequential(impl.AdaptiveConcatPool2d(*args, **(kwargs or {})))
        out = model(x)
    else:
        out = getattr(impl, op)(x, *args, **(kwargs or {}))
    if not isinstance(out, torch.Tensor):
        return {"out": None, "grad": None}
    if out.shape != grad_out.shape or out.grad_fn is None:
        return {"out": out.detach(), "grad": None}
    (out * grad_out).sum().backward()
    return {"out": out.detach(), "grad": x.grad}
