"""Padding, stride and dilation: output sizes and receptive fields / Padding, Schrittweite und Dilatation.

Before you build a CNN you must know the shape every layer produces. Along one axis of length
``n`` a convolution with kernel size ``k``, stride ``s``, padding ``p`` and dilation ``d`` works so:

* **dilation** spreads the ``k`` kernel taps ``d`` apart, so the kernel covers
  ``k_eff = d*(k - 1) + 1`` input positions (``k=3, d=2``: taps at 0, 2, 4, so ``k_eff = 5``);
* **padding** adds ``p`` zeros at the start *and* ``p`` at the end: ``n + 2*p`` positions;
* the kernel fits at the first position and then at every ``s``-th one while it still fits
  completely; a last, partial step is dropped (floor, not ceil)::

      n_out = floor((n + 2*p - k_eff) / s) + 1 = (n + 2*p - d*(k - 1) - 1) // s + 1

  Example: ``n=7, k=3, s=2, p=1``: 9 padded positions, windows start at 0, 2, 4, 6: ``n_out = 4``.

**"Same" padding** keeps ``n_out = n`` at stride 1. That needs ``2*p = k_eff - 1``, which only
works when ``k_eff`` is odd (an even kernel would need half a zero on each side).

A **transposed convolution** (``nn.ConvTranspose2d``) maps sizes the other way: it is the
gradient of a convolution, so it turns ``n_out`` back into ``n``::

      n = (n_out - 1)*s - 2*p + d*(k - 1) + output_padding + 1

Several ``n`` give the same ``n_out`` when ``s > 1`` (the floor above); ``output_padding``
(smaller than the stride or the dilation) picks which one.

The **receptive field** of a stack of layers is the width of the input window one output value
sees (from its first to its last input position). A layer with kernel ``k_i`` widens it by
``k_i - 1`` steps of *its own input*, and one such step is ``s_1 * ... * s_{i-1}`` positions of
the original input (the strides of the layers before it)::

      r = 1 + sum_i (k_i - 1) * (s_1 * s_2 * ... * s_{i-1})

Every function returns a plain ``int`` and raises ``ValueError`` (with a message saying why) for
impossible arguments: a size or stride below 1, negative padding, or an output shorter than 1.
No torch here: this is arithmetic.
"""

from __future__ import annotations

import typing as t


def _at_least(name: str, value: int, minimum: int) -> None:
    """Raise ``ValueError`` unless ``value >= minimum`` (for checking the arguments)."""
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, but it is {value}")


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The length of a convolution's output along an axis of length ``n`` (``nn.Conv2d``'s rule).

    Raises ``ValueError`` when an argument is impossible (``n``, ``kernel_size``, ``stride``,
    ``dilation`` below 1, ``padding`` below 0) or the dilated kernel is longer than the padded input.

    Hint: compute the effective kernel size first; then the formula is one line with ``//``
    (``/`` gives a float, and rounding is not the same as flooring).
    """
    # TODO: your code here
    raise NotImplementedError("conv_output_size: not implemented yet (exercise padding_stride)")


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """The padding ``p`` for which a stride-1 convolution keeps the length: ``n_out == n`` for every ``n``.

    Raises ``ValueError`` when no such ``p`` exists (an even effective kernel size) or an
    argument is below 1.

    Hint: with stride 1 the output is ``n + 2*p - (k_eff - 1)`` long; it is the *effective*
    kernel size that must be odd, not ``kernel_size``.
    """
    # TODO: your code here
    raise NotImplementedError("same_padding: not implemented yet (exercise padding_stride)")


def conv_transpose_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """The length of a transposed convolution's output (``nn.ConvTranspose2d``'s rule) for input length ``n``.

    Raises ``ValueError`` for impossible arguments, when ``output_padding`` is not smaller than
    ``stride`` or ``dilation`` (as torch requires: smaller than at least one of them), or when the
    output would be shorter than 1.

    Hint: solve ``conv_output_size``'s formula for the input length, taking the smallest
    solution, and add ``output_padding`` at the end.
    """
    # TODO: your code here
    raise NotImplementedError("conv_transpose_output_size: not implemented yet (exercise padding_stride)")


def receptive_field(layers: t.Sequence[tuple[int, int]]) -> int:
    """The receptive field of a stack of 1D convolutions ``[(kernel_size, stride), ...]``, first layer first.

    That is the width of the input window one output position sees; ``[]`` gives 1. Padding does
    not matter, dilation is not used here. Raises ``ValueError`` for a kernel size or stride below 1.

    Hint: walk through the layers from the input on and keep the product of the strides *before*
    the current layer: one step of layer ``i`` is that many input positions.
    """
    # TODO: your code here
    raise NotImplementedError("receptive_field: not implemented yet (exercise padding_stride)")
