"""Length-prefixed messages over a stream socket, with deadlines and size caps.

One message is ``[u32 header length][header JSON][u32 blob count]`` followed, per blob, by
``[u64 length][bytes]``. The reading side enforces a deadline and a total size cap, so a worker
that stalls or claims to send 100 GB fails the call instead of hanging or exhausting the grader.
"""

from __future__ import annotations

import socket
import struct
import time
import typing as t

from ._codec import CodecError, dumps, loads

__all__ = ["send_message", "recv_message", "PeerClosed", "Deadline"]

#: Largest message the trusted side accepts from a worker (header plus blobs).
MAX_MESSAGE_BYTES = 256 << 20
_MAX_HEADER = 64 << 20
_MAX_BLOBS = 100_000


class PeerClosed(ConnectionError):
    """The other end closed the connection (the worker exited or was killed)."""


class Deadline(TimeoutError):
    """The other end did not answer in time."""


def send_message(sock: socket.socket, header: dict[str, t.Any], blobs: t.Sequence[bytes] = ()) -> None:
    """Send one message; blocks until the kernel has taken all of it."""
    raw = dumps(header)
    parts = [struct.pack(">I", len(raw)), raw, struct.pack(">I", len(blobs))]
    for blob in blobs:
        parts.append(struct.pack(">Q", len(blob)))
        parts.append(blob)
    if sum(map(len, parts)) < (1 << 20):
        parts = [b"".join(parts)]  # one syscall for the common small message
    for part in parts:
        sock.sendall(part)


def recv_message(
    sock: socket.socket, deadline: float | None = None, max_bytes: int = MAX_MESSAGE_BYTES
) -> tuple[dict[str, t.Any], list[bytes]]:
    """Receive one message by ``deadline`` (a ``time.monotonic()`` value, or ``None`` to wait)."""
    budget = [max_bytes]
    (n,) = struct.unpack(">I", _recv_exact(sock, 4, deadline, budget))
    if n > _MAX_HEADER:
        raise CodecError(f"message header of {n} bytes is too large")
    header = loads(_recv_exact(sock, n, deadline, budget))
    (count,) = struct.unpack(">I", _recv_exact(sock, 4, deadline, budget))
    if count > _MAX_BLOBS:
        raise CodecError(f"message with {count} blobs")
    blobs = []
    for _ in range(count):
        (size,) = struct.unpack(">Q", _recv_exact(sock, 8, deadline, budget))
        blobs.append(_recv_exact(sock, size, deadline, budget))
    return header, blobs


def _recv_exact(sock: socket.socket, n: int, deadline: float | None, budget: list[int]) -> bytes:
    if n > budget[0]:
        raise CodecError(f"message larger than the {MAX_MESSAGE_BYTES >> 20} MB limit")
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
