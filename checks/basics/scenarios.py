"""Scenarios for `basics`: small driver functions the checks run next to your code.

Each function gets your package as ``impl`` and returns plain data. They look at things a plain
call cannot show from the outside: whether ``relu`` leaves its input alone, whether ``sgd_step``
updates the tensors in place, and whether ``mlp_forward_backward`` works without autograd.
"""

import torch


def relu_keeps_input(impl, *, seed, x):
    """Call ``relu(x)``; return its result and ``x`` as it is afterwards."""
    out = impl.relu(x)
    return {"out": out, "x_after": x}


def sgd_in_place(impl, *, seed, params, grads, lr):
    """Call ``sgd_step``; return the caller's own tensors afterwards (and what it returned)."""
    own = dict(params)  # the caller's own references to its tensors
    returned = impl.sgd_step(params, grads, lr)
    return {"caller_tensors": own, "returned": returned}


def without_autograd(impl, *, seed, x, w1, b1, w2, b2, y):
    """``mlp_forward_backward`` inside ``torch.inference_mode()``, where autograd cannot run."""
    with torch.inference_mode():
        args = [t.clone() for t in (x, w1, b1, w2, b2, y)]
        loss, grads = impl.mlp_forward_backward(*args)
    return {"loss": loss.clone(), "grads": {k: v.clone() for k, v in dict(grads).items()}}
