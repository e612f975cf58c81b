"""Transient faults: retried with backoff, and a broken transfer resumed where it stopped.

urllib3's :class:`~urllib3.util.Retry` keeps the count and computes the waits (first
retry at once, then ``backoff`` doubling up to 30 s, with jitter; a ``Retry-After`` of up
to 30 s is honoured).  What it cannot do is done here, for HTTP and GCS alike:

- a ranged read that fails part-way keeps what it received and asks again only for the
  missing tail, so a retry costs a round trip, not a re-transfer;
- the budget is of attempts *in a row without progress*: an attempt that delivered bytes
  resets it, so a server that drops every long response after a few MB still delivers the
  whole range, while one that delivers nothing gives up after ``retries`` attempts;
- "no progress" is also bounded in time (``give_up_after``), and an attempt that crawls
  below ``min_rate`` is cut and counts as no progress, so neither a silent nor a trickling
  server holds a job for long.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util import Retry

from camhd_motion.errors import SourceError
from camhd_motion.sources.options import NetOptions

log = logging.getLogger(__name__)

# Statuses a later attempt may not see: server overload, gateway trouble, rate limits.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_WAIT = 30.0  # s: longest backoff, and the longest Retry-After obeyed


class Fault(Exception):
    """A fault worth retrying: 5xx/429, connection reset or drop, timeout, short body.

    ``received``: bytes delivered before it (kept, not asked for again); ``slow``: the
    attempt was cut for crawling, which is not progress whatever it delivered;
    ``response``: the HTTP response, for its ``Retry-After``.
    """

    def __init__(self, message: str, received: int = 0, *, slow: bool = False,
                 response=None):
        super().__init__(message)
        self.received = received
        self.slow = slow
        self.response = response

    @property
    def progressed(self) -> bool:
        return self.received > 0 and not self.slow


class GaveUp(SourceError):
    """The retry budget ran out (the caller may add what it kept for a later run)."""


class DeadlineExceeded(GaveUp):
    """One video's reads took longer than ``deadline`` in all: transient (exit 4)."""


class Deadline:
    """The time one video's network reads may take in all (``NetOptions.deadline``, from
    opening it), shared by its sources' budgets and rate watches; 0: none."""

    def __init__(self, name: str, seconds: float):
        self.name = name
        self.seconds = seconds
        self._at = time.monotonic() + seconds if seconds else None

    def left(self) -> float:
        return float("inf") if self._at is None else self._at - time.monotonic()

    def check(self) -> None:
        if self._at is not None and time.monotonic() >= self._at:
            raise DeadlineExceeded(
                f"{self.name}: stopped at the deadline of {self.seconds:g} s for one video's "
                "network reads (config net.deadline, --deadline); transient: a later run "
                "tries again")


class Budget:
    """The retries of one operation (a range, a download, a page)."""

    def __init__(self, name: str, options: NetOptions, deadline: Deadline | None = None):
        self.name = name
        self.options = options
        self.deadline = deadline
        self._fresh = Retry(total=options.retries, backoff_factor=options.backoff,
                            backoff_jitter=options.backoff, backoff_max=MAX_WAIT,
                            retry_after_max=MAX_WAIT)
        self.progress()

    def progress(self) -> None:
        """The link works: a fresh budget."""
        self._retry = self._fresh
        self._stuck_since = time.monotonic()

    def left(self) -> float:
        """Seconds left before giving up for lack of progress."""
        return self.options.give_up_after - (time.monotonic() - self._stuck_since)

    def timeouts(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts for the next attempt, within the time left (and
        the video's deadline)."""
        if self.deadline is not None:
            self.deadline.check()
        left = max(0.1, min(self.left(), self.deadline.left() if self.deadline else
                            float("inf")))
        return (min(self.options.connect_timeout, left), min(self.options.read_timeout, left))

    def failed(self, fault: Fault) -> None:
        """Count ``fault`` and wait before the next attempt; raise :class:`GaveUp` when the
        budget is spent."""
        if self.deadline is not None:
            self.deadline.check()
        if fault.progressed:  # resume the tail at once
            self.progress()
            return
        try:
            self._retry = self._retry.increment(
                "GET", self.name, response=fault.response,
                error=None if fault.response is not None else fault)
        except MaxRetryError:
            raise GaveUp(f"{self.name}: {fault} (gave up after {self.options.retries} "
                         "retries)") from None
        left = self.left()
        if left <= 0:
            raise GaveUp(f"{self.name}: {fault} (gave up: no progress for "
                         f"{self.options.give_up_after:g} s)")
        wait = self._retry.get_backoff_time()
        if fault.response is not None:
            with contextlib.suppress(InvalidHeader):  # a garbled Retry-After: the backoff
                wait = self._retry.get_retry_after(fault.response) or wait
        wait = min(wait, left, self.deadline.left() if self.deadline else left)
        log.debug("%s: %s; retry %d in %.2f s", self.name, fault, len(self._retry.history),
                  wait)
        time.sleep(wait)


class RateWatch:
    """Tells a crawling attempt from a working one, by its rate against ``min_rate``.

    ``check`` cuts an attempt that delivers less than ``min_rate`` bytes/s over a window of
    ``read_timeout`` s (like curl's ``--speed-limit``/``--speed-time``): the socket read
    timeout alone would let a server sending a byte every few seconds go on forever.
    ``crawled`` judges an attempt that ended in a fault: one that delivered a little and
    then timed out has not shown that the link works, so it must not reset the budget.
    """

    def __init__(self, options: NetOptions, deadline: Deadline | None = None):
        self.window = options.read_timeout
        self.min_rate = options.min_rate
        self.deadline = deadline
        self._start = time.monotonic()
        self._mark = (self._start, 0)

    def check(self, received: int) -> None:
        """``received``: bytes so far in this attempt; raises a slow :class:`Fault`, or
        :class:`DeadlineExceeded` (not retried) once the video's deadline has passed."""
        if self.deadline is not None:
            self.deadline.check()
        now = time.monotonic()
        since, at = self._mark
        if now - since < self.window:
            return
        if received - at < self.min_rate * (now - since):
            raise Fault(f"too slow ({(received - at) / (now - since):.0f} bytes/s)",
                        received, slow=True)
        self._mark = (now, received)

    def crawled(self, received: int, timed_out: bool = False) -> bool:
        """Whether the attempt so far ran below ``min_rate``.  One that ended in silence
        is judged over at least the configured read timeout: its last wait may have been
        cut shorter (:meth:`Budget.timeouts`), which would make a burst look fast."""
        span = time.monotonic() - self._start
        return received < self.min_rate * (max(span, self.window) if timed_out else span)


def read_resuming(fetch: Callable[[memoryview, int, Budget], None], offset: int, size: int,
                  budget: Budget) -> bytes:
    """The ``size`` bytes at ``offset``.

    ``fetch(view, offset, budget)`` fills ``view`` (the still-missing part) or raises a
    :class:`Fault` with ``received`` set to the bytes it wrote first; anything else
    propagates unchanged.
    """
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while True:
        try:
            fetch(view[got:], offset + got, budget)
            return bytes(buf)
        except Fault as fault:
            got += fault.received
            budget.failed(fault)


def call_retrying(fn: Callable[[Budget], object], budget: Budget):
    """``fn(budget)``, retried while it raises :class:`Fault`."""
    while True:
        try:
            return fn(budget)
        except Fault as fault:
            budget.failed(fault)
