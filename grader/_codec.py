"""Data-only encoding of values that cross the sandbox boundary.

Why not pickle: decoding pickle runs code chosen by whoever wrote the bytes, and the worker is
student-controlled. Here a message is one JSON document plus raw byte blobs for tensor storage.
Decoding builds only plain Python data, plain ``torch.Tensor`` objects and remote handles, so a
worker that is fully under a student's control can still only send *data*.

Encoded forms (every JSON object carries exactly one ``$`` tag, so user data never looks like one):

- ``None``, ``bool``, ``int``, ``float``, ``str``: themselves (exact types only: an ``int``
  subclass with a forged ``__eq__`` is not data and becomes a handle)
- lists: JSON arrays; tuples ``{"$tuple": [...]}``; dicts (and ``OrderedDict``, so a ``state_dict``
  is data) ``{"$dict": [[key, value], ...]}``
- tensors ``{"$tensor": blob_index, "dtype": "float32", "shape": [...], "device": "cpu"}``
  (plain ``torch.Tensor`` and ``nn.Parameter`` only; other subclasses stay remote)
- numpy arrays ``{"$ndarray": blob_index, "dtype": "float32", "shape": [...]}``
- ``{"$dtype": "float32"}``, ``{"$device": "cuda:0"}``, ``{"$size": [...]}``, ``{"$slice": [a, b, c]}``
- everything else: ``{"$handle": id, "type": "module.Class", "repr": "..."}``, a remote object
"""

from __future__ import annotations

import collections
import functools
import json
import math
import typing as t

if t.TYPE_CHECKING:
    import torch

__all__ = ["CodecError", "Handle", "encode", "decode", "MAX_DEPTH"]

#: Deepest nesting accepted in either direction; deeper structures are not data a check needs.
MAX_DEPTH = 24
#: Most elements in one container; protects the trusted side from a worker sending huge JSON.
MAX_ITEMS = 1_000_000

_DTYPE_LIST = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128",
               "int8", "int16", "int32", "int64", "uint8", "bool")


@functools.cache
def _torch() -> t.Any:
    """torch, imported on first use: the trusted side starts its worker before paying for torch."""
    import torch

    return torch


@functools.cache
def _dtypes() -> dict[str, "torch.dtype"]:
    return {name: getattr(_torch(), name) for name in _DTYPE_LIST}


@functools.cache
def _dtype_names() -> dict["torch.dtype", str]:
    return {v: k for k, v in _dtypes().items()}
_NUMPY_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class CodecError(ValueError):
    """A message is not valid data (raised on the trusted side for malformed worker replies)."""


class Handle(t.NamedTuple):
    """A reference to an object that stays in the worker."""

    id: int
    type: str
    repr: str


def _plain_tensor(obj: object) -> bool:
    module = type(obj).__module__
    if not module.startswith("torch"):
        return False
    torch = _torch()
    return type(obj) is torch.Tensor or type(obj) is torch.nn.Parameter


def _tensor_bytes(x: "torch.Tensor") -> bytes:
    torch = _torch()
    x = x.detach()
    if x.device.type != "cpu":
        x = x.cpu()
    x = x.resolve_conj().resolve_neg().contiguous().reshape(-1)
    if x.numel() == 0:
        return b""
    return x.view(torch.uint8).numpy().tobytes()


def encode(
    obj: object,
    blobs: list[bytes],
    to_handle: t.Callable[[object], dict[str, t.Any]] | None = None,
    _depth: int = 0,
) -> t.Any:
    """Turn ``obj`` into JSON-able data, appending tensor storage to ``blobs``.

    ``to_handle`` decides what happens to objects that are not data: the worker registers them
    as remote handles; the trusted side passes ``None`` and gets a ``CodecError`` instead.
    """
    if _depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(obj)
    if obj is None or kind in (bool, int, str):
        return obj
    if kind is float:
        value = t.cast(float, obj)
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(v, blobs, to_handle, _depth + 1) for v in obj]  # type: ignore[attr-defined]
    if kind is tuple:
        return {"$tuple": [encode(v, blobs, to_handle, _depth + 1) for v in obj]}  # type: ignore[attr-defined]
    if (kind is dict or kind is collections.OrderedDict) and all(type(k) in (str, int) for k in obj):  # type: ignore[attr-defined]
        return {"$dict": [[k, encode(v, blobs, to_handle, _depth + 1)] for k, v in obj.items()]}  # type: ignore[attr-defined]
    if kind.__module__.startswith("torch"):
        done = _encode_torch(obj, blobs)
        if done is not None:
            return done
    numpy = _numpy_module(obj)
    if kind is slice:
        s = t.cast(slice, obj)
        return {"$slice": [encode(v, blobs, to_handle, _depth + 1) for v in (s.start, s.stop, s.step)]}
    if numpy is not None:
        if kind is numpy.ndarray and obj.dtype.name in _NUMPY_DTYPES:  # type: ignore[attr-defined]
            arr = numpy.ascontiguousarray(obj)
            blobs.append(arr.tobytes())
            return {"$ndarray": len(blobs) - 1, "dtype": arr.dtype.name, "shape": list(arr.shape)}
        if isinstance(obj, numpy.generic) and obj.dtype.name in _NUMPY_DTYPES:  # type: ignore[attr-defined]
            return encode(obj.item(), blobs, to_handle, _depth)  # type: ignore[attr-defined]
    if to_handle is None:
        raise CodecError(f"a {kind.__module__}.{kind.__qualname__} object cannot be sent as data")
    return to_handle(obj)


def _encode_torch(obj: object, blobs: list[bytes]) -> t.Any:
    torch, kind = _torch(), type(obj)
    if _plain_tensor(obj):
        x: t.Any = obj
        if x.dtype in _dtype_names():
            blobs.append(_tensor_bytes(x))
            return {"$tensor": len(blobs) - 1, "dtype": _dtype_names()[x.dtype],
                    "shape": list(x.shape), "device": str(x.device), "requires_grad": x.requires_grad}
    if kind is torch.dtype and obj in _dtype_names():
        return {"$dtype": _dtype_names()[obj]}  # type: ignore[index]
    if kind is torch.device:
        return {"$device": str(obj)}
    if kind is torch.Size:
        return {"$size": [int(v) for v in obj]}  # type: ignore[attr-defined]
    return None


def _numpy_module(obj: object) -> t.Any:
    module = type(obj).__module__
    if module == "numpy" or module.startswith("numpy."):
        import numpy

        return numpy
    return None


def decode(
    data: t.Any,
    blobs: t.Sequence[bytes],
    from_handle: t.Callable[[Handle], object] | None = None,
    device: "torch.device | None" = None,
    _depth: int = 0,
) -> t.Any:
    """Rebuild a value from :func:`encode`'s output, validating every field.

    Tensors land on ``device`` when given (the trusted side keeps the device the worker reported
    when it has that device; otherwise CPU). Raises :class:`CodecError` on anything malformed.
    """
    if _depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        _check_len(data)
        return [decode(v, blobs, from_handle, device, _depth + 1) for v in data]
    if kind is not dict or len(data) == 0:
        raise CodecError(f"unexpected JSON value of type {kind.__name__}")
    tag = next(iter(data))
    if not isinstance(tag, str) or not tag.startswith("$"):
        raise CodecError("JSON object without a type tag")
    body = data[tag]
    if tag == "$tuple":
        _check_list(body)
        return tuple(decode(v, blobs, from_handle, device, _depth + 1) for v in body)
    if tag == "$dict":
        _check_list(body)
        out: dict[t.Any, t.Any] = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise CodecError("malformed dict entry")
            out[pair[0]] = decode(pair[1], blobs, from_handle, device, _depth + 1)
        return out
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise CodecError("malformed float")
        return float(body)
    if tag == "$tensor":
        return _decode_tensor(data, blobs, device)
    if tag == "$ndarray":
        return _decode_ndarray(data, blobs)
    if tag == "$dtype":
        if body not in _DTYPE_LIST:
            raise CodecError(f"unknown dtype {body!r}")
        return _dtypes()[body]
    if tag == "$device":
        return _decode_device(body)
    if tag == "$size":
        return _torch().Size(_check_shape(body))
    if tag == "$slice":
        _check_list(body)
        if len(body) != 3:
            raise CodecError("malformed slice")
        return slice(*(decode(v, blobs, from_handle, device, _depth + 1) for v in body))
    if tag == "$handle":
        if from_handle is None:
            raise CodecError("remote handles are not accepted here")
        if type(body) is not int or type(data.get("type")) is not str or type(data.get("repr", "")) is not str:
            raise CodecError("malformed handle")
        return from_handle(Handle(body, data["type"][:200], data.get("repr", "")[:200]))
    raise CodecError(f"unknown type tag {tag!r}")


def _check_list(body: t.Any) -> None:
    if type(body) is not list:
        raise CodecError("expected a list")
    _check_len(body)


def _check_len(body: list[t.Any]) -> None:
    if len(body) > MAX_ITEMS:
        raise CodecError(f"container with more than {MAX_ITEMS} items")


def _check_shape(shape: t.Any) -> list[int]:
    if type(shape) is not list or len(shape) > 16 or any(type(d) is not int or d < 0 for d in shape):
        raise CodecError("malformed shape")
    return shape


def _blob(data: dict[str, t.Any], tag: str, blobs: t.Sequence[bytes]) -> bytes:
    index = data[tag]
    if type(index) is not int or not 0 <= index < len(blobs):
        raise CodecError("tensor refers to a missing blob")
    return blobs[index]


def _decode_device(body: t.Any) -> "torch.device":
    if type(body) is not str or len(body) > 32:
        raise CodecError("malformed device")
    try:
        return _torch().device(body)
    except (RuntimeError, ValueError) as exc:
        raise CodecError(f"malformed device {body!r}") from exc


def _decode_tensor(data: dict[str, t.Any], blobs: t.Sequence[bytes],
                   device: "torch.device | None") -> "torch.Tensor":
    torch = _torch()
    raw = _blob(data, "$tensor", blobs)
    dtype = _dtypes().get(data.get("dtype"))  # type: ignore[arg-type]
    if dtype is None:
        raise CodecError(f"unknown tensor dtype {data.get('dtype')!r}")
    shape = _check_shape(data.get("shape"))
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if numel * itemsize != len(raw):
        raise CodecError(f"tensor of shape {shape} and dtype {data['dtype']} does not match its {len(raw)} bytes")
    if numel == 0:
        x = torch.empty(shape, dtype=dtype)
    else:
        x = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)
    where = _decode_device(data.get("device", "cpu"))
    if device is not None:
        where = device if where.type != "cpu" and device.type == where.type else where
    if where.type == "cuda" and torch.cuda.is_available():
        x = x.to(where)
    if data.get("requires_grad") is True and (x.is_floating_point() or x.is_complex()):
        x.requires_grad_(True)
    return x


def _decode_ndarray(data: dict[str, t.Any], blobs: t.Sequence[bytes]) -> t.Any:
    import numpy

    raw = _blob(data, "$ndarray", blobs)
    if data.get("dtype") not in _NUMPY_DTYPES:
        raise CodecError(f"unknown array dtype {data.get('dtype')!r}")
    shape = _check_shape(data.get("shape"))
    dtype = numpy.dtype(data["dtype"])
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise CodecError("array does not match its bytes")
    return numpy.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def dumps(header: dict[str, t.Any]) -> bytes:
    """Serialise a message header (strict JSON; non-finite floats travel as ``$float``)."""
    return json.dumps(header, allow_nan=False, separators=(",", ":")).encode()


def loads(raw: bytes) -> dict[str, t.Any]:
    """Parse a message header; anything but a JSON object is a :class:`CodecError`."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message header: {exc}") from exc
    if type(value) is not dict:
        raise CodecError("message header is not a JSON object")
    return value
