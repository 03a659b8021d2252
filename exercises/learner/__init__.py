"""Exercise `learner`: data loading, normalisation, Module, loss and a training loop from scratch."""

from .learner import (DataLoader, DataLoaders, Dataset, Learner, Linear, Module, Parameter, Sequential, accuracy,
                      collate, cross_entropy, log_softmax, make_dls, normalize, normalize_stats)

__all__ = ["Dataset", "collate", "DataLoader", "DataLoaders", "normalize_stats", "normalize", "make_dls", "Parameter",
           "Module", "Linear", "Sequential", "log_softmax", "cross_entropy", "accuracy", "Learner"]
