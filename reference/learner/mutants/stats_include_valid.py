"""Mistake: make_dls computes the normalisation statistics on training and validation data together."""


def make_dls(x_train, y_train, x_valid, y_valid, bs, seed=None):
    mean, std = normalize_stats(torch.cat([x_train, x_valid]))
    train = DataLoader(Dataset(normalize(x_train, mean, std), y_train), bs, shuffle=True, seed=seed)
    valid = DataLoader(Dataset(normalize(x_valid, mean, std), y_valid), bs)
    return DataLoaders(train, valid)
