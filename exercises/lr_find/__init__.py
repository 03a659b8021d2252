"""Exercise `lr_find`: fastai's learning rate finder and its suggestions, from scratch."""

from .lr_find import lr_find, suggest_minimum, suggest_steep, suggest_valley, suggestion_window

__all__ = ["lr_find", "suggestion_window", "suggest_valley", "suggest_minimum", "suggest_steep"]
