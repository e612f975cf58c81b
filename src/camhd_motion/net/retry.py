"""Retrying transient network faults with exponential backoff.

A ranged read that fails part-way keeps what it received and asks again only for the
missing tail, so a retry costs a round trip, not a re-transfer.  The attempt counter is
reset whenever an attempt made progress: a server that drops every long response after a
few MB still delivers the whole range, while one that delivers nothing gives up after
``retries`` attempts.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from camhd_motion.errors import SourceError

log = logging.getLogger(__name__)


class TransientError(Exception):
    """A fault worth retrying: 5xx/429, connection reset or drop, timeout, short body."""

    def __init__(self, message: str, received: int = 0, retry_after: float | None = None):
        super().__init__(message)
        self.received = received  # bytes delivered before the fault (kept, not re-read)
        self.retry_after = retry_after


@dataclass
class RetryPolicy:
    retries: int = 6  # attempts after the first one that made no progress
    backoff: float = 0.5  # first wait, seconds; doubles per attempt
    max_backoff: float = 30.0

    def wait(self, attempt: int, err: TransientError | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based), with jitter so
        parallel workers do not retry in lockstep; honours a server's Retry-After."""
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        delay *= 0.75 + 0.5 * random.random()
        if err is not None and err.retry_after is not None:
            delay = max(delay, min(err.retry_after, self.max_backoff))
        return delay


def read_range_with_retries(fetch, offset: int, size: int, policy: RetryPolicy, name: str):
    """The ``size`` bytes at ``offset``, fetched by ``fetch(view, offset) -> n``.

    ``fetch`` writes what it receives into the memoryview ``view`` (the still-missing part)
    and returns the byte count; on a retryable fault it raises :class:`TransientError` with
    ``err.received`` set to the bytes it wrote first.  Anything else propagates unchanged.
    """
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    attempt = 0
    while got < size:
        want = size - got
        try:
            n = fetch(view[got:], offset + got)
            err = None if n == want else TransientError(f"short read: {n} of {want} bytes")
        except TransientError as e:
            n, err = e.received, e
        got += n
        if err is None:
            break
        # progress means the link works: resume the tail at once, with a fresh budget
        attempt = 1 if n else attempt + 1
        if attempt > policy.retries:
            raise SourceError(f"{name}: {err} (gave up after {policy.retries} retries)")
        delay = 0.0 if n else policy.wait(attempt, err)
        log.debug("%s: %s; retry %d at offset %d after %.2f s", name, err, attempt,
                  offset + got, delay)
        time.sleep(delay)
    return bytes(buf)


def call_with_retries(fn, policy: RetryPolicy, name: str):
    """``fn()``, retried with backoff while it raises :class:`TransientError`."""
    attempt = 0
    while True:
        try:
            return fn()
        except TransientError as err:
            attempt += 1
            if attempt > policy.retries:
                raise SourceError(
                    f"{name}: {err} (gave up after {policy.retries} retries)"
                ) from None
            delay = policy.wait(attempt, err)
            log.debug("%s: %s; retry %d after %.2f s", name, err, attempt, delay)
            time.sleep(delay)
