"""Hidden checks for `padding_stride`: the student's sizes against the ones torch's layers produce.

Many cases go into few checks: each check loops over its cases and stops at the first wrong one,
naming its arguments (and the mistake, when the wrong value is a known one).
"""

import itertools
import random

import pytest

from grader.sandbox import StudentError, StudentImportError
from grader.testing import assert_int, fail, student_raises
from reference.padding_stride.reference import (
    conv_mistakes,
    conv_output_size_ref,
    conv_transpose_output_size_ref,
    receptive_field_mistakes,
    receptive_field_ref,
    same_padding_mistakes,
    same_padding_ref,
    transpose_mistakes,
)


def _call(name, *args, **kwargs):
    """How a call is shown to the student: ``conv_output_size(7, 3, stride=2)``."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _ask(student, name, *args, **kwargs):
    """``student.<name>(*args, **kwargs)``; an unexpected exception fails the check naming the call."""
    __tracebackhide__ = True
    try:
        return getattr(student, name)(*args, **kwargs)
    except StudentImportError:
        raise
    except StudentError as exc:
        if exc.type_name == "NotImplementedError":
            raise
        where = f"\nIn your code:\n{exc.student_traceback.rstrip()}" if exc.student_traceback else ""
        fail(f"{_call(name, *args, **kwargs)} raised {exc.type_name}: {exc.message}{where}")


def _unambiguous(hints, expected):
    """The known mistakes that give a wrong value here which no other known mistake gives, too."""
    values = [value for value in hints.values() if value != expected]
    return {what: value for what, value in hints.items() if value != expected and values.count(value) == 1}


def check_conv(student, n, k, s=1, p=0, d=1):
    """Compare the student's conv_output_size with nn.Conv2d's for one valid case."""
    __tracebackhide__ = True
    expected = conv_output_size_ref(n, k, s, p, d)
    assert expected is not None, f"not a valid case: {(n, k, s, p, d)}"
    assert_int(_ask(student, "conv_output_size", n, k, stride=s, padding=p, dilation=d), expected,
               what=_call("conv_output_size", n, k, stride=s, padding=p, dilation=d),
               hints=_unambiguous(conv_mistakes(n, k, s, p, d), expected))


def check_transpose(student, n, k, s=1, p=0, op=0, d=1):
    """Compare the student's conv_transpose_output_size with nn.ConvTranspose2d's for one valid case."""
    __tracebackhide__ = True
    expected = conv_transpose_output_size_ref(n, k, s, p, op, d)
    assert expected is not None, f"not a valid case: {(n, k, s, p, op, d)}"
    assert_int(_ask(student, "conv_transpose_output_size", n, k, stride=s, padding=p, output_padding=op,
                    dilation=d),
               expected, what=_call("conv_transpose_output_size", n, k, stride=s, padding=p, output_padding=op,
                                    dilation=d),
               hints=_unambiguous(transpose_mistakes(n, k, s, p, op, d), expected))


def check_receptive_field(student, layers):
    """Compare the student's receptive_field with the one measured by backpropagation."""
    __tracebackhide__ = True
    layers = [tuple(layer) for layer in layers]
    expected = receptive_field_ref(tuple(layers))
    assert expected is not None
    assert_int(_ask(student, "receptive_field", layers), expected, what=_call("receptive_field", layers),
               hints=_unambiguous(receptive_field_mistakes(layers), expected))


def _sample_valid(grid, is_valid, count, seed):
    """``count`` cases of ``grid`` drawn at random (fixed seed) among those ``is_valid`` accepts."""
    cases = list(grid)
    random.Random(seed).shuffle(cases)
    return list(itertools.islice((case for case in cases if is_valid(case)), count))


# -- conv_output_size ------------------------------------------------------------------------

@pytest.mark.points(3)
def test_output_size_sweep(student):
    """conv_output_size matches nn.Conv2d over a grid of n, kernel size, stride, padding and dilation."""
    grid = itertools.product(range(1, 13), range(1, 6), range(1, 4), range(0, 3), range(1, 3))
    for case in _sample_valid(grid, lambda case: conv_output_size_ref(*case) is not None, 240, seed=0):
        check_conv(student, *case)


@pytest.mark.points(2)
def test_padding_on_both_sides(student):
    """Padding p adds p zeros at the start and p at the end (2*p in all)."""
    for n, k, p in [(4, 3, 2), (5, 3, 1), (8, 5, 2), (1, 1, 3), (6, 1, 1), (3, 5, 1)]:
        check_conv(student, n, k, 1, p, 1)
    for n, k, s, p in [(7, 3, 2, 1), (10, 4, 3, 2), (9, 5, 2, 2)]:
        check_conv(student, n, k, s, p, 1)


@pytest.mark.points(2)
def test_floor_not_ceil(student):
    """A last window that does not fit completely is dropped (floor, not ceil)."""
    for n, k, s, p in [(11, 2, 4, 0), (6, 3, 2, 0), (8, 3, 3, 0), (6, 3, 2, 1), (13, 5, 3, 1), (5, 1, 3, 0)]:
        check_conv(student, n, k, s, p, 1)


@pytest.mark.points(2)
def test_stride(student):
    """Stride s: the windows start s positions apart."""
    for n, k, s in [(7, 3, 2), (9, 3, 3), (16, 4, 4), (5, 1, 2), (12, 2, 2), (11, 5, 6)]:
        check_conv(student, n, k, s, 0, 1)


@pytest.mark.points(2)
def test_dilation(student):
    """Dilation d: the kernel covers d*(k - 1) + 1 input positions."""
    for n, k, s, p, d in [(12, 3, 1, 0, 3), (10, 3, 1, 0, 2), (9, 2, 1, 0, 4), (15, 4, 2, 1, 2),
                          (7, 3, 1, 2, 2), (11, 5, 3, 3, 2), (8, 1, 1, 0, 5), (13, 3, 2, 0, 3)]:
        check_conv(student, n, k, s, p, d)


@pytest.mark.points(2)
def test_output_too_small_raises(student):
    """A dilated kernel longer than the padded input raises ValueError (torch refuses, too)."""
    cases = [(2, 5, 1, 0, 1), (1, 3, 1, 0, 1), (4, 3, 1, 0, 3), (3, 4, 2, 0, 1), (1, 5, 1, 1, 1), (5, 2, 1, 0, 6)]
    for n, k, s, p, d in cases:
        assert conv_output_size_ref(n, k, s, p, d) is None
        call = _call("conv_output_size", n, k, stride=s, padding=p, dilation=d)
        with student_raises("ValueError", what=f"{call} (the kernel does not fit into the padded input)"):
            student.conv_output_size(n, k, stride=s, padding=p, dilation=d)
    # ... but one that fits exactly gives an output of length 1.
    for n, k, s, p, d in [(5, 5, 1, 0, 1), (3, 5, 2, 1, 1), (5, 3, 3, 0, 2)]:
        check_conv(student, n, k, s, p, d)


@pytest.mark.points(2)
def test_invalid_arguments_raise(student):
    """Sizes, strides and dilations below 1 and negative paddings raise ValueError, in every function."""
    calls = [
        ("conv_output_size", (-4, 3), {}), ("conv_output_size", (7, 0), {}),
        ("conv_output_size", (7, 3), {"stride": 0}), ("conv_output_size", (7, 3), {"padding": -1}),
        ("conv_output_size", (7, 3), {"dilation": 0}), ("conv_output_size", (7, 3), {"stride": -2}),
        ("same_padding", (0,), {}), ("same_padding", (3,), {"dilation": 0}), ("same_padding", (-3,), {}),
        ("conv_transpose_output_size", (0, 3), {}), ("conv_transpose_output_size", (4, 3), {"stride": 0}),
        ("conv_transpose_output_size", (4, 0), {}), ("conv_transpose_output_size", (4, 3), {"dilation": 0}),
        ("conv_transpose_output_size", (4, 3), {"padding": -1}),
        ("conv_transpose_output_size", (4, 3), {"stride": 2, "output_padding": -1}),
        ("receptive_field", ([(3, 1), (0, 1)],), {}), ("receptive_field", ([(3, 0), (3, 1)],), {}),
    ]
    for name, args, kwargs in calls:
        with student_raises("ValueError", what=_call(name, *args, **kwargs)):
            getattr(student, name)(*args, **kwargs)


# -- same_padding ----------------------------------------------------------------------------

@pytest.mark.points(2)
def test_same_padding_odd_and_even(student):
    """same_padding keeps the length for odd kernels and raises ValueError for even ones."""
    for k in (1, 3, 5, 7, 9, 11):
        expected = same_padding_ref(k)
        assert expected is not None
        assert_int(_ask(student, "same_padding", k), expected, what=_call("same_padding", k),
                   hints=_unambiguous(same_padding_mistakes(k), expected))
    for k in (2, 4, 6, 8):
        assert same_padding_ref(k) is None
        with student_raises("ValueError", what=f"{_call('same_padding', k)} (no padding keeps the length)"):
            student.same_padding(k)


@pytest.mark.points(2)
def test_same_padding_with_dilation(student):
    """same_padding uses the effective kernel size d*(k - 1) + 1: an even k can be fine when d is even."""
    for k, d in itertools.product(range(1, 7), range(1, 5)):
        expected = same_padding_ref(k, d)
        call = _call("same_padding", k, dilation=d)
        if expected is None:
            with student_raises("ValueError", what=f"{call} (the effective kernel size {d * (k - 1) + 1} is even)"):
                student.same_padding(k, dilation=d)
        else:
            assert_int(_ask(student, "same_padding", k, dilation=d), expected, what=call,
                       hints=_unambiguous(same_padding_mistakes(k, d), expected))


# -- conv_transpose_output_size --------------------------------------------------------------

@pytest.mark.points(3)
def test_transpose_sweep(student):
    """conv_transpose_output_size matches nn.ConvTranspose2d over a grid (output_padding 0)."""
    grid = itertools.product(range(1, 9), range(1, 6), range(1, 4), range(0, 3), range(1, 3))
    valid = lambda case: conv_transpose_output_size_ref(*case[:4], 0, case[4]) is not None
    for n, k, s, p, d in _sample_valid(grid, valid, 120, seed=1):
        check_transpose(student, n, k, s, p, 0, d)


@pytest.mark.points(2)
def test_transpose_output_padding(student):
    """output_padding adds to the transposed output; it must be smaller than the stride or the dilation."""
    for n, k, s, p, op, d in [(4, 3, 2, 1, 1, 1), (5, 4, 3, 1, 2, 1), (3, 3, 3, 0, 1, 1), (6, 5, 4, 2, 3, 1),
                              (4, 3, 1, 1, 1, 2), (5, 2, 1, 0, 2, 3), (3, 3, 2, 1, 1, 2), (2, 1, 3, 0, 2, 2)]:
        check_transpose(student, n, k, s, p, op, d)


@pytest.mark.points(1)
def test_transpose_invalid_raises(student):
    """output_padding not below stride or dilation, or an output shorter than 1, raises ValueError."""
    for n, k, s, p, op, d in [(4, 3, 2, 1, 2, 1), (4, 3, 1, 0, 1, 1), (4, 3, 2, 0, 3, 2), (5, 3, 3, 1, 3, 1),
                              (1, 1, 1, 1, 0, 1), (1, 4, 2, 2, 0, 1), (2, 1, 1, 2, 0, 1)]:
        assert conv_transpose_output_size_ref(n, k, s, p, op, d) is None
        with student_raises("ValueError", what=_call("conv_transpose_output_size", n, k, stride=s, padding=p,
                                                     output_padding=op, dilation=d)):
            student.conv_transpose_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)


@pytest.mark.points(1)
def test_transpose_inverts_conv(student):
    """For every n that a strided conv maps to m, some output_padding makes the transposed conv map m back to n."""
    for n, k, s, p in [(7, 3, 2, 1), (8, 3, 2, 1), (10, 4, 3, 1), (11, 4, 3, 1), (12, 4, 3, 1)]:
        m = conv_output_size_ref(n, k, s, p)
        op = n - conv_transpose_output_size_ref(m, k, s, p)
        check_transpose(student, m, k, s, p, op, 1)


# -- receptive_field -------------------------------------------------------------------------

@pytest.mark.points(3)
def test_receptive_field_stacks(student):
    """receptive_field matches backpropagation through random stacks of strided convolutions."""
    rng = random.Random(2)
    for depth in (1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6):
        layers = []
        for _ in range(depth):
            k = rng.randint(1, 5)
            layers.append((k, rng.randint(1, min(k, 3))))
        check_receptive_field(student, layers)


@pytest.mark.points(2)
def test_receptive_field_networks(student):
    """receptive_field of real network stems, an empty stack, and a layer that skips inputs (k < s)."""
    for layers in [[], [(3, 1)], [(7, 2), (3, 2)],                            # ResNet stem: conv + max pool
                   [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],          # two VGG blocks
                   [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1)],  # AlexNet features
                   [(1, 2), (3, 1)], [(2, 3), (2, 3)]]:
        check_receptive_field(student, layers)


# -- types -----------------------------------------------------------------------------------

@pytest.mark.points(1)
def test_returns_int(student):
    """Every function returns a plain int (also when a division happens to be exact)."""
    for name, args, kwargs, expected in [
        ("conv_output_size", (9, 3), {"stride": 2}, conv_output_size_ref(9, 3, 2)),
        ("conv_output_size", (8, 2), {"stride": 2, "padding": 1}, conv_output_size_ref(8, 2, 2, 1)),
        ("same_padding", (5,), {}, same_padding_ref(5)),
        ("same_padding", (3,), {"dilation": 2}, same_padding_ref(3, 2)),
        ("conv_transpose_output_size", (4, 3), {"stride": 2}, conv_transpose_output_size_ref(4, 3, 2)),
        ("receptive_field", ([(3, 2), (3, 2)],), {}, receptive_field_ref(((3, 2), (3, 2)))),
    ]:
        assert_int(_ask(student, name, *args, **kwargs), expected, what=_call(name, *args, **kwargs))
