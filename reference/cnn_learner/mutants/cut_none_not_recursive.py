"""Mistake: with cut=None only the children themselves are tested for pooling, not what they contain."""

_solution_create_body = create_body


def create_body(model, cut=None):
    if cut is None:
        children = list(model.children())
        cut = next(i for i in reversed(range(len(children))) if re.search(r"Pool[123]d$", type(children[i]).__name__))
    return _solution_create_body(model, cut)
