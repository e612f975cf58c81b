"""Faults the test archive server can inject, switchable while it runs (thread-safe).

Each setting mimics something a long-haul archive download meets: a connection cut
mid-body, a burst of 503s from an overloaded server, a slow or stalled server, or a
server that ignores ``Range`` (like ``python -m http.server``).
"""

from __future__ import annotations

import threading


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """No faults: ranges honoured, no delays."""
        with self._lock:
            self.ranges = True  # False: answer 200 + the whole body, close the connection
            self.delay = 0.0  # seconds before every response
            self.rate: float | None = None  # body bytes per second, None = unthrottled
            self._status_left = 0
            self._status = 503
            self._drop: tuple[int, int | None] | None = None  # (after_bytes, every)
            self._drop_count = 0
            self._stall_left = 0
            self._stall_seconds = 0.0

    # -- configuration ---------------------------------------------------------------

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` requests with ``status`` (an error burst)."""
        with self._lock:
            self._status_left, self._status = n, status

    def drop_after(self, nbytes: int, every: int | None = None) -> None:
        """Cut the connection after ``nbytes`` of a body: once (the next body longer than
        that) or, with ``every=k``, on every k-th file response."""
        with self._lock:
            self._drop, self._drop_count = (nbytes, every), 0

    def stall_next(self, n: int, seconds: float) -> None:
        """Wait ``seconds`` before answering the next ``n`` requests (client timeouts)."""
        with self._lock:
            self._stall_left, self._stall_seconds = n, seconds

    # -- decisions, one per request --------------------------------------------------

    def take_wait(self) -> float:
        with self._lock:
            wait = self.delay
            if self._stall_left:
                self._stall_left -= 1
                wait += self._stall_seconds
            return wait

    def take_status(self) -> int | None:
        with self._lock:
            if self._status_left:
                self._status_left -= 1
                return self._status
            return None

    def take_cut(self, body_length: int) -> int | None:
        """Bytes of this file body to send before cutting the connection, or None."""
        with self._lock:
            if self._drop is None:
                return None
            nbytes, every = self._drop
            self._drop_count += 1
            if every is None:
                if body_length > nbytes:
                    self._drop = None
                    return nbytes
                return None
            if self._drop_count % every == 0 and body_length > nbytes:
                return nbytes
            return None
