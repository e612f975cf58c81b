"""Where a download's bytes come from: the rest of a file, appended to its ``.part``.

``HttpRemote`` asks for ``Range: bytes=N-`` (N = what the ``.part`` holds) and copes with a
server that cannot resume (200: restart) or a ``.part`` longer than the file (416);
``GcsRemote`` reads the object from byte N at the generation seen at open time.  Both
raise :class:`~camhd_motion.sources.retry.Fault` when a transfer breaks off, with the bytes
it appended first, and find the expected MD5 (the ``.md5`` sibling, or GCS metadata).
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import re

from camhd_motion.errors import SourceError
from camhd_motion.sources import httpclient
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.partfile import PartFile
from camhd_motion.sources.retry import Budget, Fault, RateWatch

log = logging.getLogger(__name__)

_MD5 = re.compile(r"\b([0-9a-fA-F]{32})\b")


def parse_md5(text: str, source: str) -> str:
    """The first 32-hex-digit token of ``text`` (``md5sum`` output), lower case."""
    from camhd_motion.sources.content import describe, is_html

    head = text[:512].encode("utf-8", "replace")
    if is_html(head):  # an error or maintenance page served with 200
        raise SourceError(f"{source}: {describe(head)} instead of an md5 file")
    m = _MD5.search(text)
    if not m:
        raise SourceError(f"{source}: no md5 digest in it")
    return m.group(1).lower()


# -- HTTP ----------------------------------------------------------------------------


class HttpRemote:
    def __init__(self, url: str, options: NetOptions):
        self.url = httpclient.check_url(url)
        self.options = options
        self.received = 0  # file body bytes, all attempts
        self._pool = httpclient.pool_manager(1)

    def close(self) -> None:
        self._pool.clear()

    def expected_md5(self, budget: Budget) -> str | None:
        """The digest in the ``.md5`` sibling, None if there is none (404)."""
        url = self.url + ".md5"
        text = httpclient.get_text(self._pool, url, budget, missing_ok=True)
        return None if text is None else parse_md5(text, url)

    def fetch(self, part: PartFile, budget: Budget) -> int | None:
        """Append the rest of the file to ``part``; return its total size (None if the
        server did not say).  Raises Fault when the transfer breaks off."""
        headers = {"Range": f"bytes={part.size}-"} if part.size else {}
        resp = httpclient.get(self._pool, self.url, budget, headers)
        before = part.size
        try:
            total = self._start(resp, part)
            if resp.status == 416:
                if total is not None:
                    return total  # the .part was already complete
                restart = True  # the .part was restarted: ask again from byte 0
            else:
                restart = False

                def write(chunk: bytes) -> None:
                    part.write(chunk)
                    self.received += len(chunk)

                httpclient.copy_body(resp, write, self.options, deadline=budget.deadline)
        finally:
            httpclient.finish(resp)
        if restart:
            return self.fetch(part, budget)
        if total is not None and part.size < total:  # a body without Content-Length
            raise Fault("connection dropped mid-response", part.size - before)
        return total

    def _start(self, resp, part: PartFile) -> int | None:
        """The total size from a response's headers; restarts ``part`` when the server
        cannot resume (200) or the .part is longer than the file (416, returns None)."""
        if resp.status == 206:
            start, total = httpclient.content_range(resp, self.url)
            if start == part.size:
                return total
            raise SourceError(f"{self.url}: asked to resume at {part.size}, server sent "
                              f"from {start}")
        if resp.status == 416:
            _, total = httpclient.content_range(resp, self.url)
            if part.size == total:
                return total
            log.info("%s: the .part (%d bytes) is longer than the file; restarting",
                     self.url, part.size)
            part.restart()
            return None
        if resp.status == 200:
            if part.size:
                log.info("%s: server cannot resume (no Range); restarting", self.url)
                part.restart()
            length = resp.headers.get("Content-Length")
            return int(length) if length and length.isdigit() else None
        raise httpclient.status_error(self.url, resp)


# -- GCS -----------------------------------------------------------------------------


class _GcsSink:
    """``part`` as the client library's file object: counts, and cuts a crawl."""

    def __init__(self, part: PartFile, options: NetOptions, deadline=None):
        self.part = part
        self.n = 0
        self.watch = RateWatch(options, deadline)

    def write(self, data) -> int:
        self.part.write(data)
        self.n += len(data)
        self.watch.check(self.n)
        return len(data)


class GcsRemote:
    def __init__(self, url: str, options: NetOptions):
        from camhd_motion.sources.gcs import GcsRangeSource

        self.url = url
        self.options = options
        self.received = 0
        self._source = GcsRangeSource(url, concurrency=1, **dataclasses.asdict(options))
        self._client = self._source._client
        self._bucket = self._source._bucket
        self._key = self._source._key

    def close(self) -> None:
        self._source.close()

    def expected_md5(self, budget: Budget) -> str | None:
        from camhd_motion.sources.gcs import classify

        try:
            sibling = self._bucket.get_blob(self._key + ".md5", timeout=budget.timeouts(),
                                            retry=None)
            if sibling is not None:
                text = sibling.download_as_bytes(timeout=budget.timeouts(), retry=None)
                return parse_md5(text.decode("latin-1"), self.url + ".md5")
        except SourceError:
            raise
        except Exception as err:  # noqa: BLE001 - classified
            raise classify(self.url + ".md5", err) from None
        b64 = self._source.md5_base64
        return base64.b64decode(b64).hex() if b64 else None

    def fetch(self, part: PartFile, budget: Budget) -> int:
        from camhd_motion.sources.gcs import classify

        total = self._source.size()
        if part.size > total:
            part.restart()
        if part.size == total:
            return total
        blob = self._bucket.blob(self._key, generation=self._source._generation)
        sink = _GcsSink(part, self.options, budget.deadline)
        try:
            blob.download_to_file(sink, client=self._client, start=part.size,
                                  raw_download=True, checksum=None, retry=None,
                                  timeout=budget.timeouts())
        except (SourceError, Fault):  # ours, from the sink
            raise
        except Exception as err:  # noqa: BLE001 - classified
            raise classify(self.url, err, sink.n, sink.watch) from None
        finally:
            self.received += sink.n
        if part.size < total:
            raise Fault("connection dropped mid-response", sink.n,
                        slow=sink.watch.crawled(sink.n))
        return total
