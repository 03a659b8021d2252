"""Mistake: the head keeps PyTorch's default Linear init instead of fastai's kaiming_normal_ (apply_init)."""


def create_cnn_model(model, n_out, cut=None, lin_ftrs=None, ps=0.5, concat_pool=True, first_bn=True,
                     bn_final=False):
    body = create_body(model, cut)
    head = create_head(_num_features(body), n_out, lin_ftrs=lin_ftrs, ps=ps, concat_pool=concat_pool,
                       first_bn=first_bn, bn_final=bn_final)
    return nn.Sequential(body, head)
