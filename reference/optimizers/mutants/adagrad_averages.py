"""Mistake: Adagrad keeps RMSProp's decaying average of the squared gradients
(sum_sqr = 0.99*sum_sqr + 0.01*grad**2) instead of their running sum (sum_sqr += grad**2)."""


def average_sqr_sum(p, sum_sqr=None, **kwargs):
    if sum_sqr is None:
        sum_sqr = torch.zeros_like(p.grad.data)
    sum_sqr.mul_(0.99).addcmul_(p.grad.data, p.grad.data, value=0.01)
    return {"sum_sqr": sum_sqr}
