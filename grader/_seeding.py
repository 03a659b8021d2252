"""One deterministic setting for scenarios, the same in the worker and in the trusted process.

A scenario runs once against the student's package (in the worker) and once against the trusted
reference (here). Equal implementations must give bit-equal data on the CPU, so both runs start
from the same seeds, one intra-op thread and deterministic kernels; this module is the single
place that says what "the same" means. It imports torch lazily and nothing of the grader.
"""

from __future__ import annotations

import contextlib
import random
import typing as t

__all__ = ["deterministic"]


@contextlib.contextmanager
def deterministic(seed: int) -> t.Iterator[None]:
    """Seed ``random``, numpy and torch with ``seed``, use one thread and deterministic kernels.

    Thread count and the deterministic-algorithms switch are restored afterwards; the seeds are
    not (nothing after a scenario may depend on them).
    """
    import torch

    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy comes with torch
        pass
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(1)
    # torch._C directly: torch.use_deterministic_algorithms also imports torch._inductor.config and
    # with it dynamo, 1.5 s of CPU per worker for a switch that inductor alone reads.
    torch._C._set_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch._C._set_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
