"""Mistake: with cut=None the body is cut before the *first* child with a pooling layer (fastai: the last)."""

_solution_create_body = create_body


def create_body(model, cut=None):
    if cut is None:
        children = list(model.children())
        cut = next(i for i in range(len(children)) if _has_pool(children[i]))
    return _solution_create_body(model, cut)
