"""Scenarios for `batchnorm`: driver code the checks run with your layer (and with PyTorch's).

A backward pass cannot cross from your process to the grader's, so this function runs it next
to your code and returns the gradients as plain tensors. The grader runs the same function with
``torch.nn.BatchNorm2d`` on the same inputs and compares.
"""

import torch


def gradients(impl, *, seed, x, grad_out, weight, bias, eval_x, eval_grad, momentum):
    """Gradients of ``sum(layer(x) * grad_out)`` in training mode, then in evaluation mode.

    Returns ``{"train": {...}, "eval": {...}}`` with the output ``y`` and the gradients with
    respect to ``x``, ``weight`` and ``bias`` (``None`` where none arrived).
    """
    layer = impl.BatchNorm2d(x.shape[1], momentum=momentum).to(device=x.device, dtype=x.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    results = {}
    for mode, inputs, upstream in (("train", x, grad_out), ("eval", eval_x, eval_grad)):
        layer.train(mode == "train")
        layer.weight.grad = layer.bias.grad = None
        inputs = inputs.clone().requires_grad_(True)
        y = layer(inputs)
        (y * upstream).sum().backward()
        grad = lambda t: None if t.grad is None else t.grad.detach().clone()  # noqa: E731
        results[mode] = {"y": y.detach().clone(), "x": grad(inputs), "weight": grad(layer.weight),
                         "bias": grad(layer.bias)}
    return results
