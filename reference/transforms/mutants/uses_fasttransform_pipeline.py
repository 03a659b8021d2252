"""Mistake: Pipeline is fasttransform's own Pipeline, subclassed (forbidden)."""

import fasttransform


class Pipeline(fasttransform.Pipeline):
    pass
