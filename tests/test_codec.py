"""The data-only codec: round trips, and refusal of anything that is not data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader import _codec
from grader._codec import CodecError, Handle, decode, encode


def roundtrip(value, to_handle=None, from_handle=None):
    blobs: list[bytes] = []
    data = encode(value, blobs, to_handle)
    header = _codec.loads(_codec.dumps({"v": data}))
    return decode(header["v"], blobs, from_handle)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.uint8, torch.bool, torch.complex64])
def test_tensors_round_trip_exactly(dtype):
    x = (torch.randn(3, 4, 5) * 10).to(dtype)
    y = roundtrip(x)
    assert type(y) is torch.Tensor and y.dtype == dtype and y.shape == x.shape
    assert torch.equal(y, x)


def test_non_contiguous_empty_and_scalar_tensors():
    x = torch.arange(24.0).reshape(4, 6).t()
    assert torch.equal(roundtrip(x), x)
    assert roundtrip(torch.empty(0, 3)).shape == (0, 3)
    assert roundtrip(torch.tensor(2.5)).item() == 2.5


def test_nested_python_data_keeps_types():
    value = {"a": [1, 2.5, None, True, "s"], 3: (torch.ones(2), {"x": float("nan")}), "inf": -math.inf,
             "size": torch.Size([2, 3]), "dtype": torch.float16, "sl": slice(1, None, 2)}
    out = roundtrip(value)
    assert out["a"] == [1, 2.5, None, True, "s"] and type(out[3]) is tuple
    assert math.isnan(out[3][1]["x"]) and out["inf"] == -math.inf
    assert out["size"] == torch.Size([2, 3]) and out["dtype"] is torch.float16 and out["sl"] == slice(1, None, 2)


def test_numpy_values_become_data():
    assert roundtrip(np.int64(3)) == 3 and type(roundtrip(np.int64(3))) is int
    arr = roundtrip(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert arr.dtype == np.float32 and arr.tolist() == [[0, 1, 2], [3, 4, 5]]


class Sneaky(int):
    def __eq__(self, other):
        return True


class LyingTensor(torch.Tensor):
    pass


@pytest.mark.parametrize("value", [Sneaky(3), torch.zeros(2).as_subclass(LyingTensor), object(), lambda: 1])
def test_objects_that_are_not_plain_data_become_handles(value):
    handles = []
    out = roundtrip(value, to_handle=lambda o: handles.append(o) or {"$handle": 7, "type": "x.Y", "repr": "r"},
                    from_handle=lambda h: h)
    assert out == Handle(7, "x.Y", "r") and handles == [value]


def test_trusted_side_refuses_non_data_without_a_handle_table():
    with pytest.raises(CodecError):
        encode(object(), [])
    with pytest.raises(CodecError):
        decode({"$handle": 1, "type": "t", "repr": ""}, [])


@pytest.mark.parametrize("data,blobs", [
    ({"$tensor": 0, "dtype": "float32", "shape": [3]}, [b"\0" * 8]),        # size mismatch
    ({"$tensor": 1, "dtype": "float32", "shape": [1]}, [b"\0" * 4]),        # missing blob
    ({"$tensor": 0, "dtype": "object", "shape": [1]}, [b"\0" * 4]),         # unknown dtype
    ({"$tensor": 0, "dtype": "float32", "shape": [-1]}, [b""]),             # bad shape
    ({"$pickle": "gASVAAAA"}, []),                                           # unknown tag
    ({"plain": "object"}, []),                                               # untagged object
    ({"$float": "1e999"}, []),
    ({"$device": "cuda:0" * 20}, []),
])
def test_malformed_data_is_rejected(data, blobs):
    with pytest.raises(CodecError):
        decode(data, blobs)


def test_deep_nesting_is_rejected_both_ways():
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(CodecError):
        encode(deep, [])
    with pytest.raises(CodecError):
        _codec.loads(b"[" * 100000 + b"]" * 100000)


def test_source_scan_names_library_calls_but_not_the_students_own_names():
    from grader.testing import find_forbidden_names

    forbidden = ["torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d"]
    source = (
        "import torch\nimport torch.nn.functional as tnf\nfrom torch import nn\nfrom . import helpers\n"
        "from .conv import conv2d\n__all__ = ['conv2d']\n"
        "def conv2d(x, w):\n    helpers.conv2d(x)\n    return tnf.conv2d(x, w)\n"
        "def g(x):\n    return nn.Conv2d(1, 1, 3)(x) + getattr(torch, 'conv2d')(x) + torch.nn.functional.conv2d(x)\n"
    )
    hits = find_forbidden_names({"conv.py": source}, forbidden)
    text = "\n".join(hits)
    assert "tnf.conv2d" in text and "nn.Conv2d" in text and "getattr(torch, 'conv2d')" in text
    assert "torch.nn.functional.conv2d" in text and "helpers" not in text and "line 5" not in text
    assert find_forbidden_names({"x.py": "from torch.nn.functional import conv2d as c"}, forbidden)
