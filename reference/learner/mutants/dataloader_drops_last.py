"""Mistake: the DataLoader drops the last, smaller batch."""


class DataLoader(DataLoader):  # noqa: F811
    def __len__(self):
        return len(self.ds) // self.bs

    def __iter__(self):
        n = len(self.ds)
        order = torch.randperm(n, generator=self.generator).tolist() if self.shuffle else list(range(n))
        for start in range(0, n - self.bs + 1, self.bs):
            yield collate([self.ds[i] for i in order[start:start + self.bs]])
