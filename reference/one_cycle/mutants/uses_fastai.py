"""Mistake: re-exports fastai's schedule functions instead of writing them."""

from fastai.callback.schedule import combine_scheds, combined_cos, sched_cos, sched_exp, sched_lin, sched_no  # noqa: F401
