# Appended to the pooling solution by tests/test_from_scratch_scan.py: only max_pool2d stays
# implemented, so grading a hostile variant is quick, and its max_pool2d checks still earn points
# that the from-scratch gate must take away.


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    raise NotImplementedError("avg_pool2d: not implemented yet")


def adaptive_avg_pool2d(x, output_size):
    raise NotImplementedError("adaptive_avg_pool2d: not implemented yet")


class AdaptiveConcatPool2d(nn.Module):
    def __init__(self, size=None):
        raise NotImplementedError("AdaptiveConcatPool2d: not implemented yet")
