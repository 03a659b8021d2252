"""Mistake: freeze_body only freezes the body and never sets requires_grad=True on the head (fastai's freeze does)."""


def freeze_body(model, train_bn=True):
    for p in model[0].parameters():
        p.requires_grad_(False)
    if train_bn:
        for m in model[0].modules():
            if isinstance(m, NORM_TYPES):
                for p in m.parameters():
                    p.requires_grad_(True)
    return model
