"""Mistake: SGD(nesterov=True) dampens the momentum, grad_avg = mom*grad_avg + (1-mom)*grad
(torch.optim's nesterov=True requires dampening=0)."""


def SGD(params, lr, mom=0.0, wd=0.0, decouple_wd=True, nesterov=False):
    cbs = [weight_decay] if decouple_wd else [l2_reg]
    if mom != 0:
        cbs.append(functools.partial(average_grad, dampening=True) if nesterov else average_grad)
    cbs.append(sgd_step if mom == 0 else nesterov_step if nesterov else momentum_step)
    return Optimizer(params, cbs, lr=lr, mom=mom, wd=wd)
