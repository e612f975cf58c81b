"""The one interface every byte source implements: a size, and the bytes of given ranges.

The movie index parser and the frame reader need nothing else, so a local file, an HTTP
URL and a GCS object give identical numbers.  ``read_many`` returns the ranges in request
order, each complete, or raises -- never a short read.  A source with ``concurrency`` > 1
keeps that many reads in flight there: one frame is one round trip, and on a 50 ms link a
sequential reader would spend more time waiting than decoding.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from camhd_motion.errors import CamhdError, SourceError


class ByteSource(ABC):
    """Read-only random access to one file's bytes; subclasses implement ``size`` and
    ``_read`` (a range already checked to lie inside the file and to be non-empty)."""

    # Reading a range again costs about nothing (a local file: the page cache), so readers
    # need not keep bytes they may want again (video.reader.FrameReader).
    cheap_rereads = False

    def __init__(self, name: str, concurrency: int = 1):
        self.name = name  # what to call the file in messages (a path or URL)
        self.concurrency = max(1, int(concurrency))
        self.bytes_read = 0  # body bytes received, retries included
        self._count_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def _read(self, offset: int, size: int) -> bytes: ...

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset``."""
        if offset < 0 or size < 0 or offset + size > self.size():
            raise self._outside(offset, size)
        return self._read(offset, size) if size else b""

    def read_many(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """The bytes of each ``(offset, size)``, in order; up to ``concurrency`` in flight."""
        if self.concurrency == 1:
            for offset, size in ranges:
                yield self.read(offset, size)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency,
                                                thread_name_prefix=type(self).__name__)
        yield from _ordered_prefetch(self._executor, self.read, ranges, self.concurrency)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._close()

    def _close(self) -> None:  # noqa: B027 - optional: most sources hold something
        """Release what the subclass holds (file descriptors, connections)."""

    def _outside(self, offset: int, size: int) -> CamhdError:
        return SourceError(f"{self.name}: read of {size} bytes at {offset} is outside the "
                           f"file ({self.size()} bytes)")

    def _count(self, n: int) -> None:
        with self._count_lock:  # reads run in the prefetch threads
            self.bytes_read += n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _ordered_prefetch(pool: ThreadPoolExecutor, fetch, ranges: Iterable[tuple[int, int]],
                      window: int) -> Iterator[bytes]:
    """``fetch(offset, size)`` of each range, up to ``window`` at a time, yielded in order.

    The first failure is raised when its turn comes; requests not yet started are
    cancelled when the consumer stops early or a fetch fails.
    """
    pending: deque[Future] = deque()
    it = iter(ranges)
    try:
        while True:
            while len(pending) < window:
                nxt = next(it, None)
                if nxt is None:
                    break
                pending.append(pool.submit(fetch, *nxt))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()
