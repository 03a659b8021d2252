"""Mistake: every Linear has a bias, even after a BatchNorm (fastai: bias=not bn)."""

_solution_create_head = create_head


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    layers = list(_solution_create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool,
                                        first_bn=first_bn, bn_final=bn_final))
    layers = [nn.Linear(m.in_features, m.out_features) if isinstance(m, nn.Linear) else m for m in layers]
    return nn.Sequential(*layers)
