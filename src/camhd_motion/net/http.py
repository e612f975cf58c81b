"""Stream a video over HTTP(S): one exact ``Range`` request per frame.

The reader asks for each needed frame's ``[offset, offset+size)`` from the movie index,
so the bytes transferred are the frames it decodes plus the index -- about 10 % of the
file at the default stride, against ~100 % for FFmpeg's own http protocol
(``performance.md`` section 6).  Requests go over a few persistent keep-alive
connections, several in flight at once, so a long round trip does not stall decoding.

A server that ignores ``Range`` (answers 200 with the whole body) cannot be streamed:
that is reported at open time, unless ``on_no_range="download"`` asks to fetch the whole
file into a temporary cache instead.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from camhd_motion.errors import SourceError
from camhd_motion.net.httpconn import (
    MAX_REDIRECTS,
    NETWORK_ERRORS,
    ConnectionPool,
    describe,
    redirect_target,
    status_error,
)
from camhd_motion.net.prefetch import ordered_prefetch
from camhd_motion.net.retry import (
    RetryPolicy,
    TransientError,
    call_with_retries,
    read_range_with_retries,
)

log = logging.getLogger(__name__)

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)|bytes\s+\*/(\d+)")
# Socket reads per call: small enough that a dropped connection loses little, large
# enough to cost nothing.
CHUNK = 256 * 1024


def no_range_message(url: str) -> str:
    return f"{url}: server ignores HTTP Range requests; use read_mode: download"


class HttpRangeSource:
    """A :class:`~camhd_motion.video.sources.ByteSource` over HTTP(S) range requests."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 6,
        backoff: float = 0.5,
        concurrency: int = 4,
        on_no_range: str = "error",
        cache_dir: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        if on_no_range not in ("error", "download"):
            raise ValueError("on_no_range must be 'error' or 'download'")
        self.name = url
        self.url = url  # after redirects
        self.concurrency = max(1, int(concurrency))
        self.bytes_read = 0  # body bytes received, retries included
        self.requests = 0
        self._timeout = timeout
        self._policy = RetryPolicy(retries=retries, backoff=backoff)
        self._headers = dict(headers or {})
        self._lock = threading.Lock()
        self._pool = ConnectionPool(url, timeout)
        self._executor: ThreadPoolExecutor | None = None
        self._local = None  # LocalFileSource when fallen back to a download
        self._tmpdir: str | None = None
        try:
            size = self._probe()
            if size is None:
                if on_no_range == "error":
                    raise SourceError(no_range_message(url))
                size = self._fall_back_to_download(cache_dir)
        except BaseException:
            self._pool.close()
            raise
        self._size = size

    # -- opening ---------------------------------------------------------------------

    def _probe(self) -> int | None:
        """The file size from a one-byte ranged GET (following redirects); None if the
        server ignores Range."""
        for _ in range(MAX_REDIRECTS + 1):
            kind, value = call_with_retries(self._probe_once, self._policy, self.name)
            if kind != "redirect":
                return value
            log.debug("%s: redirected to %s", self.name, value)
            self._pool.close()
            self.url = value
            self._pool = ConnectionPool(value, self._timeout)
        raise SourceError(f"{self.name}: more than {MAX_REDIRECTS} redirects")

    def _probe_once(self):
        conn, resp = self._request({"Range": "bytes=0-0"})
        try:
            target = redirect_target(self.url, resp)
            if target is not None:
                return "redirect", target
            if resp.status == 206:
                _, _, total = self._content_range(resp)
                self._count(len(resp.read()))
                return "size", total
            if resp.status == 416:  # an empty file: nothing is satisfiable
                _, _, total = self._content_range(resp)
                return "size", total
            if resp.status == 200:  # Range ignored; do not read the (huge) body
                return "no-range", None
            raise status_error(self.name, resp)
        except NETWORK_ERRORS as err:
            raise TransientError(describe(err)) from None
        finally:
            self._pool.release(conn, resp)

    def _fall_back_to_download(self, cache_dir: str | None) -> int:
        from camhd_motion.net.download import download
        from camhd_motion.video.sources import LocalFileSource

        self._tmpdir = tempfile.mkdtemp(prefix="camhd-dl-", dir=cache_dir)
        dest = os.path.join(self._tmpdir, self.url.rstrip("/").rsplit("/", 1)[-1] or "video")
        log.warning("%s: server ignores Range; downloading the whole file to %s",
                    self.name, dest)
        try:
            result = download(self.url, dest, timeout=self._timeout,
                              retries=self._policy.retries, backoff=self._policy.backoff)
        except BaseException:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            raise
        self.bytes_read += result.bytes_transferred
        self._local = LocalFileSource(dest)
        return self._local.size()

    # -- ByteSource --------------------------------------------------------------------

    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self._size:
            raise SourceError(
                f"{self.name}: read of {size} bytes at {offset} is outside the file "
                f"({self._size} bytes)"
            )
        if size == 0:
            return b""
        if self._local is not None:
            return self._local.read(offset, size)
        return read_range_with_retries(self._fetch_into, offset, size, self._policy, self.name)

    def read_many(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        if self._local is not None or self.concurrency == 1:
            for offset, size in ranges:
                yield self.read(offset, size)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="http")
        yield from ordered_prefetch(self._executor, self.read, ranges, self.concurrency)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._pool.close()
        if self._local is not None:
            self._local.close()
            self._local = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- one request -------------------------------------------------------------------

    def _fetch_into(self, view: memoryview, offset: int) -> int:
        """GET ``bytes=offset-(offset+len(view)-1)`` into ``view``; return bytes received.
        Raises TransientError (with ``received``) on a retryable fault."""
        last = offset + len(view) - 1
        conn, resp = self._request({"Range": f"bytes={offset}-{last}"})
        n = 0
        try:
            if resp.status != 206:
                if resp.status == 200:
                    raise SourceError(no_range_message(self.name))
                raise status_error(self.name, resp)
            start, _, total = self._content_range(resp)
            if start != offset:
                raise SourceError(f"{self.name}: asked for bytes from {offset}, "
                                  f"server sent from {start}")
            if total != self._size:
                raise SourceError(f"{self.name}: file changed on the server while reading "
                                  f"(size {self._size} -> {total})")
            while n < len(view):
                k = resp.readinto(view[n : n + CHUNK])
                if not k:
                    break
                n += k
            if n < len(view):
                raise TransientError("connection dropped mid-response", received=n)
            return n
        except NETWORK_ERRORS as err:
            raise TransientError(describe(err), received=n) from None
        finally:
            self._count(n)
            self._pool.release(conn, resp)

    def _request(self, headers: dict[str, str]):
        with self._lock:
            self.requests += 1
        return self._pool.request("GET", {**self._headers, **headers})

    def _count(self, n: int) -> None:
        with self._lock:
            self.bytes_read += n

    def _content_range(self, resp) -> tuple[int, int, int]:
        m = _CONTENT_RANGE.fullmatch((resp.getheader("Content-Range") or "").strip())
        if not m or (m.group(3) == "*"):
            raise SourceError(f"{self.name}: bad or missing Content-Range "
                              f"{resp.getheader('Content-Range')!r}")
        if m.group(4) is not None:
            return 0, -1, int(m.group(4))
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
