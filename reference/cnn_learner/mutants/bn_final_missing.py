"""Mistake: bn_final is ignored: no BatchNorm1d(n_out, momentum=0.01) at the end."""

_solution_create_head = create_head


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    return _solution_create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool, first_bn=first_bn,
                                 bn_final=False)
