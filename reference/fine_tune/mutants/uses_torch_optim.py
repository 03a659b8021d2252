"""Mistake: the Learner trains with torch.optim's AdamW instead of the student's own optimizer."""


def _torch_adamw(params, lr):
    return torch.optim.AdamW(params, lr=lr)
