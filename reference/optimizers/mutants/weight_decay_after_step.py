"""Mistake: SGD applies the weight decay after the update instead of first."""


def SGD(params, lr, mom=0.0, wd=0.0, decouple_wd=True, nesterov=False):
    cbs = [average_grad] if mom != 0 else []
    cbs.append(sgd_step if mom == 0 else nesterov_step if nesterov else momentum_step)
    cbs.append(weight_decay if decouple_wd else l2_reg)
    return Optimizer(params, cbs, lr=lr, mom=mom, wd=wd)
