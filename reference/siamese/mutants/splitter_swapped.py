"""Mistake: siamese_splitter returns [head params, encoder params]."""


def siamese_splitter(model):
    return [list(model.head.parameters()), list(model.encoder.parameters())]
