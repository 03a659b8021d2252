"""Stands in for a package that student code must not have (fastai).

The sandboxes hide the real package: bubblewrap and Docker mount an empty, read-only tmpfs over
its folder and bind this file over its ``__init__.py``, so ``import fastai`` fails with this message
and none of fastai's source can be read. Nothing in the grader imports this module.
"""

raise ImportError(f"{__name__} is not available to submitted code: the grader runs your code without it.",
                  name=__name__)
