# helper.py at the submission's root, next to pooling/: not part of the pooling package.
from torch.nn.functional import max_pool2d  # noqa: F401
