"""Stream a video over HTTP(S): one exact ``Range`` request per frame.

The reader asks for each needed frame's ``[offset, offset+size)`` from the movie index,
so the bytes transferred are the frames it decodes plus the index -- about 10 % of the
file at the default stride, against ~100 % for FFmpeg's own http protocol
(``performance.md`` section 6).  Requests go over a few keep-alive connections
(:mod:`~camhd_motion.sources.httpclient`), several in flight at once, so a long round
trip does not stall decoding; faults are retried and resumed
(:mod:`~camhd_motion.sources.retry`).

Only a 206 whose ``Content-Range`` starts at the byte asked for, in a file of the size
seen at open time, is accepted.  A server that ignores ``Range`` (answers 200 with the
whole body) cannot be streamed: that is reported at open time, unless
``on_no_range="download"`` asks to fetch the whole file into a temporary cache instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

from camhd_motion.errors import SourceError
from camhd_motion.sources import httpclient
from camhd_motion.sources.base import ByteSource
from camhd_motion.sources.local import LocalFileSource
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.retry import Budget, Deadline, call_retrying, read_resuming

log = logging.getLogger(__name__)


def no_range_message(url: str) -> str:
    return f"{url}: server ignores HTTP Range requests; use read_mode: download"


class HttpRangeSource(ByteSource):
    """A :class:`~camhd_motion.sources.base.ByteSource` over HTTP(S) range requests.

    ``net``: :class:`~camhd_motion.sources.options.NetOptions` fields (timeouts, retries).
    """

    def __init__(
        self,
        url: str,
        *,
        concurrency: int = 4,
        on_no_range: str = "error",
        cache_dir: str | None = None,
        headers: dict[str, str] | None = None,
        **net,
    ):
        if on_no_range not in ("error", "download"):
            raise ValueError("on_no_range must be 'error' or 'download'")
        super().__init__(httpclient.check_url(url), concurrency)
        self.url = url  # after redirects
        self.requests = 0
        self.options = NetOptions(**net)
        self._deadline = Deadline(url, self.options.deadline)  # from opening the video
        self._headers = dict(headers or {})
        self._pool = httpclient.pool_manager(self.concurrency)
        self._local: LocalFileSource | None = None  # when fallen back to a download
        self._tmpdir: str | None = None
        try:
            size = call_retrying(self._probe, Budget(url, self.options, self._deadline))
            if size is None:
                if on_no_range == "error":
                    raise SourceError(no_range_message(url))
                size = self._fall_back_to_download(cache_dir)
        except BaseException:
            self._pool.clear()
            raise
        self._size = size

    # -- opening ---------------------------------------------------------------------

    def _probe(self, budget: Budget) -> int | None:
        """The file size from a one-byte ranged GET (which also follows redirects); None
        if the server ignores Range."""
        resp = self._get("bytes=0-0", budget)
        try:
            self.url = httpclient.final_url(resp, self.url)
            if resp.status == 206:
                err = httpclient.not_the_file(self.name, resp, "the video")
                if err is not None:
                    raise err
                _, total = httpclient.content_range(resp, self.name)
                self._count(httpclient.copy_body(resp, lambda chunk: None, self.options,
                                                 deadline=budget.deadline))
                return total
            if resp.status == 416:  # an empty file: nothing is satisfiable
                return httpclient.content_range(resp, self.name)[1]
            if resp.status == 200:  # Range ignored (the huge body is not read), or a page
                err = httpclient.not_the_file(self.name, resp, "the video", sniff=True)
                if err is not None:
                    raise err
                return None
            raise httpclient.status_error(self.name, resp)
        finally:
            httpclient.finish(resp)

    def _fall_back_to_download(self, cache_dir: str | None) -> int:
        from camhd_motion.sources.download import download

        self._tmpdir = tempfile.mkdtemp(prefix="camhd-dl-", dir=cache_dir)
        dest = os.path.join(self._tmpdir, self.url.rstrip("/").rsplit("/", 1)[-1] or "video")
        log.warning("%s: server ignores Range; downloading the whole file to %s",
                    self.name, dest)
        try:
            result = download(self.url, dest, options=self.options)
        except BaseException:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            raise
        self._count(result.bytes_transferred)
        self._local = LocalFileSource(dest)
        return self._local.size()

    # -- ByteSource ------------------------------------------------------------------

    def size(self) -> int:
        return self._size

    def _read(self, offset: int, size: int) -> bytes:
        if self._local is not None:
            return self._local.read(offset, size)
        return read_resuming(self._fetch_into, offset, size,
                             Budget(self.name, self.options, self._deadline))

    def read_many(self, ranges):
        if self._local is not None:  # a local copy: nothing to overlap
            return (self._local.read(offset, size) for offset, size in ranges)
        return super().read_many(ranges)

    def _close(self) -> None:
        self._pool.clear()
        if self._local is not None:
            self._local.close()
            self._local = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # -- one request -----------------------------------------------------------------

    def _fetch_into(self, view: memoryview, offset: int, budget: Budget) -> None:
        """GET ``bytes=offset-(offset+len(view)-1)`` into ``view``; a fault raises
        :class:`~camhd_motion.sources.retry.Fault` with the bytes it wrote first."""
        resp = self._get(f"bytes={offset}-{offset + len(view) - 1}", budget)
        n = 0

        def write(chunk: bytes) -> None:  # straight into the caller's buffer
            nonlocal n
            view[n : n + len(chunk)] = chunk
            n += len(chunk)
            self._count(len(chunk))

        try:
            if resp.status != 206:
                if resp.status == 200:
                    raise (httpclient.not_the_file(self.name, resp, "the video", sniff=True)
                           or SourceError(no_range_message(self.name)))
                raise httpclient.status_error(self.name, resp)
            start, total = httpclient.content_range(resp, self.name)
            if start != offset:
                raise SourceError(f"{self.name}: asked for bytes from {offset}, "
                                  f"server sent from {start}")
            if total != self._size:
                raise SourceError(f"{self.name}: file changed on the server while reading "
                                  f"(size {self._size} -> {total})")
            httpclient.copy_body(resp, write, self.options, len(view), budget.deadline)
        finally:
            httpclient.finish(resp)

    def _get(self, byte_range: str, budget: Budget):
        with self._count_lock:
            self.requests += 1
        return httpclient.get(self._pool, self.url, budget,
                              {**self._headers, "Range": byte_range})
