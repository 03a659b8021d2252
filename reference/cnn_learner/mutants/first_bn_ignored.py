"""Mistake: first_bn is ignored: the first block always gets a BatchNorm (and a bias-free Linear)."""

_solution_create_head = create_head


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    return _solution_create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool, first_bn=True,
                                 bn_final=bn_final)
