"""Mistake: each block is Dropout, BatchNorm1d, Linear (fastai's LinBnDrop: BatchNorm first, then Dropout)."""

_solution_create_head = create_head


def create_head(nf, n_out, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True, bn_final=False):
    layers = list(_solution_create_head(nf, n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool,
                                        first_bn=first_bn, bn_final=bn_final))
    for i in range(len(layers) - 1):
        if isinstance(layers[i], nn.BatchNorm1d) and isinstance(layers[i + 1], nn.Dropout):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
    return nn.Sequential(*layers)
