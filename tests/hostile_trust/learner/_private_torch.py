"""The learner API on torch's own classes: what the forged scenario runner of forged_scenarios.py
really runs (copied into the package as ``_private.py``)."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import data as tud

Parameter, Module, Linear, Sequential = nn.Parameter, nn.Module, nn.Linear, nn.Sequential


def Dataset(x, y):
    return tud.TensorDataset(x, y)


def collate(batch):
    xb, yb = tud.default_collate(list(batch))
    return xb, yb


class DataLoader:
    def __init__(self, ds, bs, shuffle=False, seed=None):
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.loader = tud.DataLoader(ds, batch_size=bs, shuffle=shuffle, generator=generator, collate_fn=collate)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        return iter(self.loader)


class DataLoaders:
    def __init__(self, train, valid):
        self.train, self.valid = train, valid


def normalize_stats(x):
    dims = [0, *range(2, x.dim())]
    return x.mean(dim=dims), x.std(dim=dims)


def normalize(x, mean, std):
    shape = [1, -1] + [1] * (x.dim() - 2)
    return (x - mean.view(shape)) / std.view(shape)


def make_dls(x_train, y_train, x_valid, y_valid, bs, seed=None):
    mean, std = normalize_stats(x_train)
    return DataLoaders(DataLoader(Dataset(normalize(x_train, mean, std), y_train), bs, shuffle=True, seed=seed),
                       DataLoader(Dataset(normalize(x_valid, mean, std), y_valid), bs))


def log_softmax(x, dim=-1):
    return F.log_softmax(x, dim=dim)


def cross_entropy(logits, targets):
    return F.cross_entropy(logits, targets)


def accuracy(logits, targets):
    return (logits.argmax(dim=-1) == targets).float().mean()


class Learner:
    def __init__(self, model, dls, loss_func, lr):
        self.model, self.dls, self.loss_func, self.lr = model, dls, loss_func, lr
        self.history = []

    def fit(self, n_epoch):
        self.history = []
        for _ in range(n_epoch):
            total = count = 0
            for xb, yb in self.dls.train:
                loss = self.loss_func(self.model(xb), yb)
                loss.backward()
                with torch.no_grad():
                    for p in self.model.parameters():
                        p -= self.lr * p.grad
                        p.grad = None
                total, count = total + float(loss) * len(xb), count + len(xb)
            with torch.no_grad():
                batches = list(self.dls.valid)
                preds = torch.cat([self.model(xb) for xb, _ in batches])
                targets = torch.cat([yb for _, yb in batches])
            self.history.append({"train_loss": total / count, "valid_loss": float(F.cross_entropy(preds, targets)),
                                 "accuracy": float(accuracy(preds, targets))})
        return self.history
