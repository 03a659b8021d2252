"""Mistake: norm_bias_params looks only at the model's direct children (nested BatchNorms and biases missed)."""


def norm_bias_params(model, with_bias=True):
    found = []
    for m in model.children():
        if isinstance(m, NORM_TYPES):
            found += list(m.parameters())
        elif with_bias and isinstance(getattr(m, "bias", None), torch.Tensor):
            found.append(m.bias)
    return found
