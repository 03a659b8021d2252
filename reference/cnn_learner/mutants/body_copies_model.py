"""Mistake: the body is a deep copy of the model's layers, so the model's (pretrained) parameters are not the ones trained."""

import copy

_solution_create_body = create_body


def create_body(model, cut=None):
    return copy.deepcopy(_solution_create_body(model, cut))
