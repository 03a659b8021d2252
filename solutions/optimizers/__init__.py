"""Exercise `optimizers`: fastai's generic optimizer (SGD, momentum, RMSProp, Adam) from scratch."""

from .optimizers import (SGD, Adam, Optimizer, RMSProp, adam_step, average_grad, average_sqr_grad, debias,
                         l2_reg, momentum_step, rms_prop_step, sgd_step, step_stat, weight_decay)

__all__ = ["Optimizer", "sgd_step", "weight_decay", "l2_reg", "average_grad", "average_sqr_grad", "momentum_step",
           "rms_prop_step", "step_stat", "debias", "adam_step", "SGD", "RMSProp", "Adam"]
