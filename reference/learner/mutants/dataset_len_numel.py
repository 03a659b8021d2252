"""Mistake: len(Dataset) counts the elements of x (x.numel()) instead of its items (x.shape[0])."""


class Dataset(Dataset):  # noqa: F811
    def __len__(self):
        return self.x.numel()
