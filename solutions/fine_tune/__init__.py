"""Exercise `fine_tune`: fastai's fine_tune on your own Learner, optimizer, schedule and splitter."""

from .fine_tune import (Callback, GroupOptimizer, Learner, LearnerTrainer, ParamScheduler, even_mults, fine_tune,
                        fit_one_cycle, lr_range, norm_bias_params, suggest_lr)

__all__ = ["Callback", "norm_bias_params", "even_mults", "lr_range", "GroupOptimizer", "ParamScheduler", "Learner",
           "fit_one_cycle", "LearnerTrainer", "suggest_lr", "fine_tune"]
