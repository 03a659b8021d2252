"""Length-prefixed messages over a stream socket, with deadlines and size caps.

One message is ``[u32 header length][header JSON][u32 blob count]`` followed, per blob, by
``[u64 length][bytes]``. The reading side enforces a deadline, a cap on the header and a cap on
the whole message, each checked against the length prefix *before* the bytes are read, so a worker
that stalls or floods (a 60 MB reply to a call whose answer is 1 KB) fails the call at once,
instead of hanging or costing the grader the time and memory to read and parse it.
"""

from __future__ import annotations

import socket
import struct
import time
import typing as t

from ._codec import CodecError, dumps, loads

__all__ = ["send_message", "recv_message", "recv_sized", "PeerClosed", "Deadline", "TooLarge"]

#: Largest message the trusted side accepts from a worker (header plus blobs).
MAX_MESSAGE_BYTES = 256 << 20
_MAX_HEADER = 64 << 20
_MAX_BLOBS = 100_000


class PeerClosed(ConnectionError):
    """The other end closed the connection (the worker exited or was killed)."""


class Deadline(TimeoutError):
    """The other end did not answer in time."""


class TooLarge(CodecError):
    """A message is larger than the reader allows; it was refused before its bytes were read.

    The stream is out of step afterwards: the reader must close the connection.
    """

    def __init__(self, part: str, limit: int) -> None:
        self.part, self.limit = part, limit
        super().__init__(f"{part} larger than the {limit} bytes allowed")


def send_message(sock: socket.socket, header: dict[str, t.Any], blobs: t.Sequence[bytes] = ()) -> int:
    """Send one message; blocks until the kernel has taken all of it. Returns its size in bytes."""
    raw = dumps(header)
    parts = [struct.pack(">I", len(raw)), raw, struct.pack(">I", len(blobs))]
    for blob in blobs:
        parts.append(struct.pack(">Q", len(blob)))
        parts.append(blob)
    if sum(map(len, parts)) < (1 << 20):
        parts = [b"".join(parts)]  # one syscall for the common small message
    for part in parts:
        sock.sendall(part)
    return sum(map(len, parts))


def recv_message(
    sock: socket.socket, deadline: float | None = None, max_bytes: int = MAX_MESSAGE_BYTES,
    max_header: int = _MAX_HEADER,
) -> tuple[dict[str, t.Any], list[bytes]]:
    """Receive one message by ``deadline`` (a ``time.monotonic()`` value, or ``None`` to wait).

    ``max_header`` caps the JSON header, ``max_bytes`` the whole message; either one exceeded
    raises :class:`TooLarge` before the oversized part is read.
    """
    header, blobs, _ = recv_sized(sock, deadline, max_bytes, max_header)
    return header, blobs


def recv_sized(
    sock: socket.socket, deadline: float | None = None, max_bytes: int = MAX_MESSAGE_BYTES,
    max_header: int = _MAX_HEADER,
) -> tuple[dict[str, t.Any], list[bytes], int]:
    """:func:`recv_message`, and the number of bytes the message took."""
    budget = [max_bytes, max_bytes]
    (n,) = struct.unpack(">I", _recv_exact(sock, 4, deadline, budget))
    if n > min(max_header, _MAX_HEADER):
        raise TooLarge("message header", min(max_header, _MAX_HEADER))
    header = loads(_recv_exact(sock, n, deadline, budget))
    (count,) = struct.unpack(">I", _recv_exact(sock, 4, deadline, budget))
    if count > _MAX_BLOBS:
        raise CodecError(f"message with {count} blobs")
    blobs = []
    for _ in range(count):
        (size,) = struct.unpack(">Q", _recv_exact(sock, 8, deadline, budget))
        blobs.append(_recv_exact(sock, size, deadline, budget))
    return header, blobs, budget[1] - budget[0]


def _recv_exact(sock: socket.socket, n: int, deadline: float | None, budget: list[int]) -> bytes:
    if n > budget[0]:
        raise TooLarge("message", budget[1])
    budget[0] -= n
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Deadline()
            sock.settimeout(remaining)
        else:
            sock.settimeout(None)
        try:
            k = sock.recv_into(view[got:], min(n - got, 1 << 24))
        except socket.timeout:
            raise Deadline() from None
        except OSError as exc:
            raise PeerClosed(str(exc)) from exc
        if k == 0:
            raise PeerClosed("connection closed")
        got += k
    return bytes(buf)
