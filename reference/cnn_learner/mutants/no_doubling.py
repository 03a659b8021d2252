"""Mistake: with concat_pool the number of features is not doubled for the first BatchNorm/Linear."""

_solution_create_head = create_head


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    head = _solution_create_head(nf // 2 if concat_pool else nf, n_out, lin_ftrs=lin_ftrs, ps=ps,
                                 concat_pool=concat_pool, first_bn=first_bn, bn_final=bn_final)
    return head
