"""Exercise `cnn_learner`: fastai's transfer-learning model (body, head, freezing, splitter) from scratch."""

from .cnn_learner import AdaptiveConcatPool2d, cnn_splitter, create_body, create_cnn_model, create_head, freeze_body

__all__ = ["create_body", "create_head", "create_cnn_model", "freeze_body", "cnn_splitter", "AdaptiveConcatPool2d"]
