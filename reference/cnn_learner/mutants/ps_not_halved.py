"""Mistake: a single ps is used for every dropout (fastai: ps/2 for all blocks but the last)."""

_solution_create_head = create_head


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    if not isinstance(ps, (list, tuple)):
        n_blocks = 2 if lin_ftrs is None else len(lin_ftrs) + 1
        ps = [ps] * n_blocks
    return _solution_create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool, first_bn=first_bn,
                                 bn_final=bn_final)
