"""Mistake: the splitter returns [head, body] instead of [body, head] (the head gets the body's learning rate)."""


def cnn_splitter(model):
    return [list(model[1:].parameters()), list(model[0].parameters())]
