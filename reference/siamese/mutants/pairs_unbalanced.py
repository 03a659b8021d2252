"""Mistake: make_pairs draws the partner uniformly from all items (same-class pairs only ~1/k)."""


def make_pairs(labels, n, seed):
    rng = random.Random(seed)
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    pairs = []
    for _ in range(n):
        i, j = rng.randrange(len(values)), rng.randrange(len(values))
        pairs.append((i, j, bool(values[i] == values[j])))
    return pairs
