"""Public checks for `padding_stride`: run them with `grade check padding_stride`.

They try each function on a few small cases; the hidden checks sweep many more (and compare
with the shapes that `nn.Conv2d` and `nn.ConvTranspose2d` really produce).
"""

import pytest

from grader.testing import assert_int, student_raises


@pytest.mark.points(1)
def test_conv_output_size_examples(student):
    """conv_output_size on a few cases: plain, with stride and padding, with dilation."""
    assert_int(student.conv_output_size(7, 3), 5, what="conv_output_size(7, 3)")
    assert_int(student.conv_output_size(7, 3, stride=2, padding=1), 4,
               what="conv_output_size(7, 3, stride=2, padding=1)")
    assert_int(student.conv_output_size(10, 3, dilation=2), 6, what="conv_output_size(10, 3, dilation=2)")
    with student_raises("ValueError", what="conv_output_size(2, 5) (the kernel is longer than the input)"):
        student.conv_output_size(2, 5)


@pytest.mark.points(1)
def test_same_padding_examples(student):
    """same_padding for odd kernels, and a ValueError for an even one."""
    assert_int(student.same_padding(3), 1, what="same_padding(3)")
    assert_int(student.same_padding(5), 2, what="same_padding(5)")
    with student_raises("ValueError", what="same_padding(4)"):
        student.same_padding(4)


@pytest.mark.points(1)
def test_conv_transpose_output_size_examples(student):
    """conv_transpose_output_size undoes conv_output_size (stride 2: output_padding picks the size)."""
    assert_int(student.conv_transpose_output_size(4, 3, stride=2, padding=1), 7,
               what="conv_transpose_output_size(4, 3, stride=2, padding=1)")
    assert_int(student.conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1), 8,
               what="conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1)")


@pytest.mark.points(1)
def test_receptive_field_examples(student):
    """receptive_field of two 3-wide layers, without and with a stride in the first one."""
    assert_int(student.receptive_field([]), 1, what="receptive_field([])")
    assert_int(student.receptive_field([(3, 1), (3, 1)]), 5, what="receptive_field([(3, 1), (3, 1)])")
    assert_int(student.receptive_field([(3, 2), (3, 1)]), 7, what="receptive_field([(3, 2), (3, 1)])")
