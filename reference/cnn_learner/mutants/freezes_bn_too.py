"""Mistake: train_bn is ignored: the body's BatchNorm layers are frozen as well."""


def freeze_body(model, train_bn=True):
    for p in model[0].parameters():
        p.requires_grad_(False)
    for p in model[1:].parameters():
        p.requires_grad_(True)
    return model
