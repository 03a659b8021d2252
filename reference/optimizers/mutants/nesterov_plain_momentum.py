"""Mistake: Nesterov's update is plain momentum, p -= lr*grad_avg (it is p -= lr*(grad + mom*grad_avg))."""


def nesterov_step(p, lr, mom, grad_avg, **kwargs):
    p.data.add_(grad_avg, alpha=-lr)
