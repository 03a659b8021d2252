"""Scenarios for `resnet`: code that runs inside the sandbox, with your package as ``impl``.

The grader sends the inputs, the weights to load and the training data; it compares what comes
back with the same computation on its side (the documented architecture rebuilt from the weights,
or the same training with a trusted ResNet), so the numbers must really come from your modules.

- ``block_backward``: one ResBlock in training mode, a forward and a backward pass; returns the
  output and the gradients of the input and of every parameter.
- ``train``: a short training run of a small ResNet (SGD with momentum 0.9, learning rate decaying
  linearly to 0, cross-entropy, batches drawn with a generator seeded by ``seed``) on a synthetic
  task the grader sends: 2 classes, horizontal vs vertical stripes (random frequency, phase and
  contrast per image) under Gaussian noise. Returns the loss of every step and the trained
  ``state_dict``; the grader compares the first losses with its own run and measures the trained
  model's accuracy on fresh images it keeps to itself (at least 0.9 is needed; a correct ResNet
  gets about 1.0 in 18 to 22 steps).
"""

import torch
import torch.nn.functional as F


def block_backward(impl, *, seed, ni, nf, stride, state, x, grad_out):
    """Load ``state`` into ``impl.ResBlock(ni, nf, stride)``, run ``x`` through it and back-propagate."""
    block = impl.ResBlock(ni, nf, stride).to(device=x.device, dtype=x.dtype)
    block.load_state_dict(state)
    before = x.clone()
    block.eval()
    with torch.no_grad():
        block(x)  # a forward pass must not change its input
    input_changed = not torch.equal(x, before)
    block.train()
    xg = x.clone().requires_grad_(True)
    out = block(xg)
    if not isinstance(out, torch.Tensor) or out.shape != grad_out.shape or out.grad_fn is None:
        return {"input_changed": input_changed, "out": out.detach() if isinstance(out, torch.Tensor) else None,
                "x_grad": None, "grads": {}}
    (out * grad_out).sum().backward()
    grads = {name: p.grad for name, p in block.named_parameters()}
    return {"input_changed": input_changed, "out": out.detach(), "x_grad": xg.grad, "grads": grads}


def train(impl, *, seed, n_in, n_out, layers, widths, init_state, x, y, steps=20, batch_size=32, lr=0.1, mom=0.9):
    """Train ``impl.ResNet(n_in, n_out, layers, widths)`` from ``init_state`` on ``(x, y)``.

    Plain SGD with momentum, written out (it is ``torch.optim.SGD(params, lr, momentum=mom)``;
    constructing a torch optimizer imports torch's compiler, a second of CPU).
    """
    model = impl.ResNet(n_in, n_out, layers=layers, widths=widths).to(x.device)
    model.load_state_dict(init_state)
    model.train()
    params = list(model.parameters())
    velocities = [torch.zeros_like(p) for p in params]
    batches = torch.Generator().manual_seed(seed)
    losses = []
    for step in range(steps):
        step_lr = lr * (1 - step / steps)
        idx = torch.randint(0, len(x), (batch_size,), generator=batches).to(x.device)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p, v in zip(params, velocities):
                v.mul_(mom).add_(p.grad)
                p.sub_(step_lr * v)
        losses.append(loss.item())
    return {"losses": losses, "state": model.state_dict()}
