"""Exercise `siamese`: a Siamese model with a shared encoder, its splitter, and balanced pairs."""

from .siamese import SiameseModel, make_pairs, siamese_splitter

__all__ = ["SiameseModel", "siamese_splitter", "make_pairs"]
