"""Mistake: siamese_splitter returns all parameters in one group."""


def siamese_splitter(model):
    return [list(model.parameters())]
