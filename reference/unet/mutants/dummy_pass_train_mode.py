"""Mistake: the dummy pass that finds the sizes runs in training mode, so it changes the encoder's BatchNorm running statistics."""


def _layer_shapes(encoder, img_size):
    p = next(encoder.parameters())
    x = torch.zeros(1, _in_channels(encoder), *img_size, dtype=p.dtype, device=p.device)
    shapes = []
    with torch.no_grad():
        for layer in encoder:
            x = layer(x)
            shapes.append(x.shape)
    return shapes
