"""Exercise `optimizers`: fastai's generic optimizer (SGD, momentum, Nesterov, RMSProp, Adagrad, Adam) from scratch."""

from .optimizers import (SGD, Adagrad, Adam, Optimizer, RMSProp, adagrad_step, adam_step, average_grad,
                         average_sqr_grad, average_sqr_sum, debias, l2_reg, momentum_step, nesterov_step,
                         rms_prop_step, sgd_step, step_stat, weight_decay)

__all__ = ["Optimizer", "sgd_step", "weight_decay", "l2_reg", "average_grad", "average_sqr_grad", "momentum_step",
           "nesterov_step", "rms_prop_step", "average_sqr_sum", "adagrad_step", "step_stat", "debias", "adam_step",
           "SGD", "RMSProp", "Adagrad", "Adam"]
