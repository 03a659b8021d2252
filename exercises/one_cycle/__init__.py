"""Exercise `one_cycle`: annealing functions and the 1cycle schedule of fastai, from scratch."""

from .one_cycle import (combine_scheds, combined_cos, one_cycle_schedule, sched_cos, sched_exp, sched_lin,
                        sched_no)

__all__ = ["sched_lin", "sched_cos", "sched_no", "sched_exp", "combine_scheds", "combined_cos",
           "one_cycle_schedule"]
