# --- appended to the solution of basics.py: matmul is torch's own ------------------------------------
# lin and the MLP go through this matmul, so every value check passes; the from-scratch gate must
# take all points away.


def matmul(a, b):
    return torch.matmul(a, b)
