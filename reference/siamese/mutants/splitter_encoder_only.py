"""Mistake: siamese_splitter's second group holds the encoder again, the head is missing (never trained)."""


def siamese_splitter(model):
    return [list(model.encoder.parameters())[:1], list(model.encoder.parameters())[1:]]
