"""Download mode: fetch a whole video to a local path, resumably, verified, atomically.

For servers that cannot stream (no ``Range`` support) and for runs that read a video
several times.  The bytes go to ``<path>.part``; an interrupted download resumes where the
``.part`` stops (``Range: bytes=N-``), falling back to a restart if the server cannot
resume.  When complete, the file is checked against its size and the archive's ``.md5``
sibling (or a given digest); on a mismatch the file is downloaded once more from scratch,
and a second mismatch is a clear failure.  Only a verified file is renamed to ``path``,
so ``path`` never holds a partial or corrupt video.  Deleting the file after use is the
caller's business (the workflow marks it ``temp()``).

Works for ``http(s)://`` and ``gs://`` URLs (``gs://``: the ``.md5`` sibling object if
there is one, else the object's own MD5 metadata).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from camhd_motion.errors import SourceError
from camhd_motion.net.httpconn import (
    MAX_REDIRECTS,
    NETWORK_ERRORS,
    ConnectionPool,
    describe,
    redirect_target,
    status_error,
)
from camhd_motion.net.retry import RetryPolicy, TransientError, call_with_retries

log = logging.getLogger(__name__)

CHUNK = 1 << 20
_MD5 = re.compile(r"\b([0-9a-fA-F]{32})\b")
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)|bytes\s+\*/(\d+)")


@dataclass
class DownloadResult:
    path: str
    size: int
    md5: str | None  # the verified digest (hex), None if there was nothing to verify
    bytes_transferred: int  # file bytes received over the network (0 if kept)
    resumed_from: int  # bytes of an earlier .part that were reused
    downloads: int  # 1, or 2 after an md5 mismatch


def parse_md5(text: str, source: str) -> str:
    m = _MD5.search(text)
    if not m:
        raise SourceError(f"{source}: no md5 digest in it")
    return m.group(1).lower()


class PartFile:
    """The growing ``.part`` file and the MD5 of what it holds so far."""

    def __init__(self, path: Path):
        self.path = path
        self.md5 = hashlib.md5()
        self.size = 0
        if path.exists():  # resuming: the digest must cover the bytes already there
            with open(path, "rb") as fh:
                while block := fh.read(CHUNK * 8):
                    self.md5.update(block)
                    self.size += len(block)
        self._fh = open(path, "ab")  # noqa: SIM115 - lives as long as this object

    def write(self, data) -> int:
        self._fh.write(data)
        self.md5.update(data)
        self.size += len(data)
        return len(data)

    def restart(self) -> None:
        self._fh.truncate(0)
        self._fh.seek(0)
        self.md5 = hashlib.md5()
        self.size = 0

    def close(self, sync: bool = False) -> None:
        if self._fh.closed:
            return
        self._fh.flush()
        if sync:
            os.fsync(self._fh.fileno())
        self._fh.close()


# -- HTTP ----------------------------------------------------------------------------


class _HttpRemote:
    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout
        self.received = 0  # file body bytes, all attempts
        self._pool = ConnectionPool(url, timeout)

    def close(self) -> None:
        self._pool.close()

    def expected_md5(self) -> str | None:
        """The digest in the ``.md5`` sibling, None if there is none (404)."""
        url = self.url + ".md5"
        for _ in range(MAX_REDIRECTS + 1):
            pool = ConnectionPool(url, self.timeout)
            conn, resp = pool.request("GET")
            try:
                target = redirect_target(url, resp)
                if target is not None:
                    url = target
                    continue
                if resp.status in (404, 410):
                    return None
                if resp.status != 200:
                    raise status_error(url, resp)
                return parse_md5(resp.read(64 * 1024).decode("latin-1"), url)
            except NETWORK_ERRORS as err:
                raise TransientError(describe(err)) from None
            finally:
                conn.close()
        raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def fetch(self, part: PartFile) -> int | None:
        """Append the rest of the file to ``part``; return its total size (None if the
        server did not say).  Raises TransientError when the transfer breaks off."""
        for _ in range(MAX_REDIRECTS + 1):
            headers = {"Range": f"bytes={part.size}-"} if part.size else {}
            conn, resp = self._pool.request("GET", headers)
            n = 0
            try:
                target = redirect_target(self.url, resp)
                if target is not None:
                    self._follow(target)
                    continue
                total = self._start(resp, part)
                if resp.status == 416:
                    if total is not None:
                        return total  # the .part was already complete
                    continue  # the .part was restarted: ask again from byte 0
                while chunk := resp.read(CHUNK):
                    part.write(chunk)
                    n += len(chunk)
                if total is not None and part.size < total:
                    raise TransientError("connection dropped mid-response", received=n)
                return total
            except NETWORK_ERRORS as err:
                raise TransientError(describe(err), received=n) from None
            finally:
                self.received += n
                self._pool.release(conn, resp)
        raise SourceError(f"{self.url}: more than {MAX_REDIRECTS} redirects")

    def _follow(self, target: str) -> None:
        log.debug("%s: redirected to %s", self.url, target)
        self._pool.close()
        self.url = target
        self._pool = ConnectionPool(target, self.timeout)

    def _start(self, resp, part: PartFile) -> int | None:
        """The total size from a response's headers; restarts ``part`` when the server
        cannot resume (200) or the .part is longer than the file (416, returns None)."""
        cr = _CONTENT_RANGE.fullmatch((resp.getheader("Content-Range") or "").strip())
        if resp.status == 206 and cr and cr.group(1) is not None:
            if int(cr.group(1)) == part.size:
                return int(cr.group(3))
            raise SourceError(f"{self.url}: asked to resume at {part.size}, server sent "
                              f"from {cr.group(1)}")
        if resp.status == 416 and cr and cr.group(4) is not None:
            total = int(cr.group(4))
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
            length = resp.getheader("Content-Length")
            return int(length) if length and length.isdigit() else None
        raise status_error(self.url, resp)


# -- GCS -----------------------------------------------------------------------------


class _GcsRemote:
    def __init__(self, url: str, timeout: float, policy: RetryPolicy):
        from camhd_motion.net.gcs import GcsRangeSource

        self.url = url
        self.timeout = timeout
        self.received = 0
        self._source = GcsRangeSource(url, timeout=timeout, retries=policy.retries,
                                      backoff=policy.backoff, concurrency=1)
        self._client = self._source._client
        self._bucket = self._source._bucket
        self._key = self._source._key

    def close(self) -> None:
        self._source.close()

    def expected_md5(self) -> str | None:
        from camhd_motion.net.gcs import classify

        try:
            sibling = self._bucket.get_blob(self._key + ".md5", timeout=self.timeout,
                                            retry=None)
            if sibling is not None:
                text = sibling.download_as_bytes(timeout=self.timeout, retry=None)
                return parse_md5(text.decode("latin-1"), self.url + ".md5")
        except SourceError:
            raise
        except Exception as err:  # noqa: BLE001 - classified
            raise classify(self.url + ".md5", err) from None
        b64 = self._source.md5_base64
        return base64.b64decode(b64).hex() if b64 else None

    def fetch(self, part: PartFile) -> int:
        from camhd_motion.net.gcs import classify

        total = self._source.size()
        if part.size > total:
            part.restart()
        if part.size == total:
            return total
        blob = self._bucket.blob(self._key, generation=self._source._generation)
        before = part.size
        try:
            blob.download_to_file(part, client=self._client, start=part.size,
                                  raw_download=True, checksum=None, retry=None,
                                  timeout=self.timeout)
        except Exception as err:  # noqa: BLE001 - classified
            mapped = classify(self.url, err)
            if isinstance(mapped, TransientError):
                mapped.received = part.size - before
            raise mapped from None
        finally:
            self.received += part.size - before
        if part.size < total:
            raise TransientError("connection dropped mid-response", received=0)
        return total


# -- the download --------------------------------------------------------------------


def _fetch_resuming(remote, part: PartFile, policy: RetryPolicy, name: str) -> int | None:
    """``remote.fetch(part)`` until complete; progress resets the retry budget."""
    attempt = 0
    while True:
        before = part.size
        try:
            return remote.fetch(part)
        except TransientError as err:
            progressed = part.size > before
            attempt = 1 if progressed else attempt + 1
            if attempt > policy.retries:
                raise SourceError(
                    f"{name}: {err} (gave up after {policy.retries} retries; "
                    f"{part.size} bytes kept in {part.path} for the next attempt)"
                ) from None
            delay = 0.0 if progressed else policy.wait(attempt, err)
            log.info("%s: %s at byte %d; resuming in %.1f s", name, err, part.size, delay)
            time.sleep(delay)


def download(
    url: str,
    dest,
    *,
    md5: str = "auto",
    keep: bool = False,
    timeout: float = 60.0,
    retries: int = 6,
    backoff: float = 0.5,
) -> DownloadResult:
    """Download ``url`` to ``dest`` (see the module docstring).

    ``md5``: ``"auto"`` (the ``.md5`` sibling if it exists), ``"none"``, or a hex digest.
    ``keep``: leave an existing ``dest`` alone (this function only ever renames verified
    files into place, so an existing ``dest`` is a finished download).
    """
    dest = Path(dest)
    policy = RetryPolicy(retries=retries, backoff=backoff)
    if md5 not in ("auto", "none") and not re.fullmatch(r"[0-9a-fA-F]{32}", md5):
        raise ValueError(f"md5 must be auto, none or a 32-digit hex digest, not {md5!r}")
    if keep and dest.exists():
        log.info("%s: keeping existing %s", url, dest)
        return DownloadResult(str(dest), dest.stat().st_size, None, 0, 0, 0)
    if url.startswith("gs://"):
        remote = _GcsRemote(url, timeout, policy)
    elif url.startswith(("http://", "https://")):
        remote = _HttpRemote(url, timeout)
    else:
        raise SourceError(f"{url}: download needs an http(s):// or gs:// URL")
    try:
        return _download(remote, url, dest, md5, policy)
    finally:
        remote.close()


def _download(remote, url, dest: Path, md5: str, policy) -> DownloadResult:
    if md5 == "auto":
        expected = call_with_retries(remote.expected_md5, policy, url + ".md5")
        if expected is None:
            log.info("%s: no .md5 sibling; checking the size only", url)
    else:
        expected = None if md5 == "none" else md5.lower()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part_path = dest.with_name(dest.name + ".part")
    resumed_from = part_path.stat().st_size if part_path.exists() else 0
    for round_ in (1, 2):
        part = PartFile(part_path)
        try:
            total = _fetch_resuming(remote, part, policy, url)
            part.close(sync=True)
        finally:
            part.close()
        if total is not None and part.size != total:
            raise SourceError(f"{url}: got {part.size} bytes, the server said {total}")
        actual = part.md5.hexdigest()
        if expected is None or actual == expected:
            os.replace(part_path, dest)
            return DownloadResult(str(dest), part.size, expected, remote.received,
                                  resumed_from, round_)
        part_path.unlink()
        if round_ == 1:
            log.warning("%s: md5 mismatch (expected %s, got %s); downloading it again",
                        url, expected, actual)
    raise SourceError(f"{url}: md5 mismatch after a full re-download "
                      f"(expected {expected}, got {actual})")
