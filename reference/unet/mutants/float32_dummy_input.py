"""Mistake: the dummy input is always float32 on the CPU, whatever the encoder's dtype and device."""


def _layer_shapes(encoder, img_size):
    x = torch.zeros(1, _in_channels(encoder), *img_size)
    was_training = encoder.training
    encoder.eval()
    shapes = []
    with torch.no_grad():
        for layer in encoder:
            x = layer(x)
            shapes.append(x.shape)
    encoder.train(was_training)
    return shapes
