"""Which device a run grades on; imports torch only when the answer needs it.

Kept apart from :mod:`grader.runner` (pytest, the plugin, torch) so that ``grade batch``'s parent
process, which only hands students to its pool, never imports torch: that import alone delayed
the pool's start by 2-3 s.
"""

from __future__ import annotations

from .errors import ExerciseConfigError

__all__ = ["resolve_device"]


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; ``cuda`` without a GPU is an error."""
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ExerciseConfigError("--device cuda was asked for, but torch sees no CUDA device here.")
    return device
