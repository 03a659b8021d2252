"""Mistake: the eps argument is ignored; 1e-5 is hard-coded."""

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(num_features, 1e-5, momentum)
