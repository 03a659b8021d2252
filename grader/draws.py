"""Shared draws: one set of random inputs per batch, so the trusted reference runs once per batch.

A hidden check draws its seeds at grading time (:func:`grader.scenarios.fresh_seed`), so a canned
answer cannot match. ``grade check`` draws anew on every run. In ``grade batch`` and ``grade
validate`` every submission of the run gets the *same* draws for the same check: each draw is
derived from a secret made in the trusted process when the run starts, the check's id and the
number of draws that check made before. The reference's answer to a scenario then depends only
on values that repeat from student to student, so the trusted process computes it once
(:class:`ReferenceMemo`) and compares every student with that same answer.

Why this keeps the checks honest:

- the secret exists only in the grader's own processes (pool initargs, never an environment
  variable, a file or a request); a worker sees a seed only inside the request that uses it, when
  its answer is already due, and workers cannot talk to each other (no network, no shared files);
- a student cannot learn the draws from an earlier batch: every run makes a new secret;
- the memo holds the reference's answers in the trusted process only, keyed by everything the
  answer depends on (exercise, scenario, arguments, seed, device), and hands out a fresh copy
  each time, so a check that changes what it got cannot change what the next student is
  compared with.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import typing as t

__all__ = ["sharing", "begin_check", "draw", "ReferenceMemo", "MEMO"]

_LOCK = threading.Lock()


class _Shared:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.key = ""
        self.count = 0


_SHARED: _Shared | None = None


@contextlib.contextmanager
def sharing(secret: bytes | None = None) -> t.Iterator[bytes]:
    """Within this block, draws repeat from submission to submission (a new secret unless given).

    ``grade batch`` passes the batch's secret to every pool process; ``grade validate`` opens one
    block per exercise, so the solution, the stub and every mutant are compared with one answer.
    """
    global _SHARED
    previous = _SHARED
    _SHARED = _Shared(secret or secrets.token_bytes(32))
    try:
        yield _SHARED.secret
    finally:
        _SHARED = previous
        if previous is None:
            MEMO.clear()


def share_for_process(secret: bytes) -> None:
    """Share draws for the rest of this process's life (a batch's pool process)."""
    global _SHARED
    _SHARED = _Shared(secret)


def begin_check(check_id: str) -> None:
    """The plugin calls this as each check starts: its draws are numbered from 0 again."""
    if _SHARED is not None:
        _SHARED.key, _SHARED.count = check_id, 0


def draw() -> int | None:
    """The next shared seed (1 .. 2**31-1), or ``None`` when draws are not shared (draw afresh)."""
    shared = _SHARED
    if shared is None:
        return None
    with _LOCK:
        message = f"{shared.key}\0{shared.count}".encode()
        shared.count += 1
    digest = hmac.new(shared.secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1) + 1


class ReferenceMemo:
    """The reference's answers of this run, by what they depend on; bounded, newest kept.

    Answers are stored encoded (the sandbox codec's JSON header and blobs) and decoded anew for
    every caller. Only used while draws are shared: with fresh draws no key repeats.
    """

    def __init__(self, max_bytes: int = 512 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: collections.OrderedDict[str, tuple[t.Any, list[bytes], int]] = collections.OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    @staticmethod
    def key(*parts: t.Any) -> str | None:
        """A digest of ``parts`` (data only), or ``None`` when some part is not data."""
        from . import _codec

        if _SHARED is None:
            return None
        blobs: list[bytes] = []
        try:
            header = json.dumps(_codec.encode(list(parts), blobs), sort_keys=True, default=str)
        except (_codec.CodecError, TypeError, ValueError):
            return None
        digest = hashlib.sha256(header.encode())
        for blob in blobs:
            digest.update(len(blob).to_bytes(8, "big"))
            digest.update(blob)
        return digest.hexdigest()

    def get_or_compute(self, key: str | None, compute: t.Callable[[], t.Any]) -> t.Any:
        """``compute()``'s value (data only), computed at most once per key while sharing."""
        from . import _codec

        if key is None or _SHARED is None:
            return compute()
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            self.hits += 1
            header, blobs, _ = found
            return _codec.decode(header, [bytes(b) for b in blobs])
        self.misses += 1
        value = compute()
        blobs = []
        header = _codec.encode(value, blobs)
        size = sum(len(b) for b in blobs) + len(json.dumps(header, default=str))
        if size <= self.max_bytes // 4:
            self._items[key] = (header, blobs, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, _, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return _codec.decode(header, [bytes(b) for b in blobs])

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


#: The memo of this process (a batch's pool process, or one exercise's validation).
MEMO = ReferenceMemo()
