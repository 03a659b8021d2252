"""dl-grader: grade PyTorch/fastai exercises without trusting the code being graded.

The grade is decided in this (trusted) process; student code runs in a sandboxed worker and only
data comes back. Importing this package is cheap on purpose: it does not import torch.
"""

from __future__ import annotations

from ._limits import Limits as Limits
from .catalog import Course as Course
from .catalog import Exercise as Exercise
from .catalog import find_course as find_course
from .errors import GradeError as GradeError
from .results import CheckResult as CheckResult
from .results import ExerciseResult as ExerciseResult
from .sandbox import LocalLauncher as LocalLauncher
from .sandbox import Sandbox as Sandbox

__all__ = ["CheckResult", "Course", "Exercise", "ExerciseResult", "GradeError", "Limits", "LocalLauncher",
           "Sandbox", "find_course"]
__version__ = "0.1.0"
