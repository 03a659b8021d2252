"""Exercise `transforms`: Pipeline and TfmdLists from scratch, and three Transforms."""

from .transforms import Categorize, NormalizeMean, Pipeline, SiameseTransform, TfmdLists

__all__ = ["Pipeline", "TfmdLists", "NormalizeMean", "Categorize", "SiameseTransform"]
