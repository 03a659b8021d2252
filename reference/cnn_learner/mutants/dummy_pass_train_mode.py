"""Mistake: the dummy batch that finds nf runs in training mode, so the body's BatchNorm statistics change."""


def _num_features(body):
    first = next(p for p in body.parameters() if p.dim() == 4)
    x = torch.zeros(2, first.shape[1], 32, 32, dtype=first.dtype, device=first.device)
    with torch.no_grad():
        return int(body(x).shape[1])
