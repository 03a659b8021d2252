"""Mistake: off by one: the body keeps the child at index `cut` too (children[:cut + 1])."""

_solution_create_body = create_body


def create_body(model, cut=None):
    if isinstance(cut, int):
        return nn.Sequential(*list(model.children())[:cut + 1])
    return _solution_create_body(model, cut)
