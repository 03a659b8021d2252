"""Mistake: the momentum convention of Keras/TensorFlow: new = momentum * old + (1 - momentum) * batch."""

_Solution = BatchNorm2d


class BatchNorm2d(_Solution):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps, 1 - momentum)
