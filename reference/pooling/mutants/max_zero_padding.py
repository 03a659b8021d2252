"""Mistake: max pooling pads with zeros instead of -inf (a padded 0 wins against negative values)."""


def max_pool2d(x, kernel_size, stride=None, padding=0):
    kernel = _pair(kernel_size)
    step = _pair(kernel_size if stride is None else stride)
    ph, pw = _pair(padding)
    xp = F.pad(x, (pw, pw, ph, ph))
    return _windows(xp, kernel, step).max(dim=-1).values
