"""Mistake: re-exports fastai's Adam and adam_step instead of writing them (forbidden)."""

from fastai.optimizer import Adam, adam_step  # noqa: F401,E402
