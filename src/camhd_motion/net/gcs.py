"""Stream a video from Google Cloud Storage: one ranged GET per frame.

Same behaviour as :mod:`camhd_motion.net.http`: exact ranges, a few requests in flight,
transient faults retried with backoff and resumed where they stopped.  The object's
generation is pinned at open time, so an object overwritten mid-analysis fails loudly
instead of mixing two videos.  ``STORAGE_EMULATOR_HOST`` (e.g. fake-gcs-server) is
honoured by the client library itself.  Without Google credentials the client falls
back to anonymous access (public buckets).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from camhd_motion.errors import SourceError
from camhd_motion.net.httpconn import RETRY_STATUSES
from camhd_motion.net.prefetch import ordered_prefetch
from camhd_motion.net.retry import (
    RetryPolicy,
    TransientError,
    call_with_retries,
    read_range_with_retries,
)

log = logging.getLogger(__name__)


def parse_gs_url(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``gs://bucket/key``."""
    if not url.startswith("gs://"):
        raise SourceError(f"{url}: not a gs:// URL")
    bucket, _, key = url[len("gs://") :].partition("/")
    if not bucket or not key:
        raise SourceError(f"{url}: expected gs://BUCKET/OBJECT")
    return bucket, key


def make_client(anonymous: bool = False):
    """A storage client: default credentials, else anonymous (public data)."""
    try:
        from google.cloud import storage
    except ImportError:
        raise SourceError(
            "gs:// URLs need google-cloud-storage (pip install 'camhd-motion[gcs]')"
        ) from None
    if anonymous:
        return storage.Client.create_anonymous_client()
    import google.auth.exceptions

    try:
        return storage.Client()
    except (google.auth.exceptions.DefaultCredentialsError, OSError) as err:
        log.info("no Google credentials (%s); using anonymous access", err)
        return storage.Client.create_anonymous_client()


def classify(name: str, err: BaseException) -> Exception:
    """Map a client-library exception to TransientError or SourceError."""
    import google.auth.exceptions
    import requests
    from google.api_core import exceptions as gexc
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(err, gexc.NotFound):
        return SourceError(f"{name}: not found")
    if isinstance(err, gexc.Forbidden | gexc.Unauthorized):
        return SourceError(f"{name}: access denied ({err.code})")
    if isinstance(err, gexc.GoogleAPICallError) and err.code in RETRY_STATUSES:
        return TransientError(f"HTTP {err.code}")
    if isinstance(err, requests.RequestException | Urllib3Error | ConnectionError
                  | TimeoutError | google.auth.exceptions.TransportError):
        return TransientError(type(err).__name__)
    if isinstance(err, gexc.GoogleAPICallError):
        return SourceError(f"{name}: {err.code} {err.message}")
    return err


class _ViewWriter:
    """A write-only file object filling a memoryview: keeps what arrived before a fault."""

    def __init__(self, view: memoryview, name: str):
        self.view = view
        self.name = name
        self.n = 0

    def write(self, data) -> int:
        k = len(data)
        if self.n + k > len(self.view):
            raise SourceError(f"{self.name}: server sent more bytes than requested")
        self.view[self.n : self.n + k] = data
        self.n += k
        return k


class GcsRangeSource:
    """A :class:`~camhd_motion.video.sources.ByteSource` over a GCS object."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        retries: int = 6,
        backoff: float = 0.5,
        concurrency: int = 4,
        anonymous: bool = False,
        client=None,
        on_no_range: str = "error",  # accepted for option compatibility: GCS honours Range
        cache_dir: str | None = None,  # likewise unused
    ):
        self.name = url
        self.concurrency = max(1, int(concurrency))
        self.bytes_read = 0
        self.requests = 0
        self._timeout = timeout
        self._policy = RetryPolicy(retries=retries, backoff=backoff)
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        bucket_name, self._key = parse_gs_url(url)
        self._client = client or make_client(anonymous)
        self._bucket = self._client.bucket(bucket_name)
        blob = call_with_retries(self._get_blob, self._policy, self.name)
        if blob is None:
            raise SourceError(f"{url}: not found")
        self._size = int(blob.size)
        self._generation = blob.generation
        self.md5_base64 = blob.md5_hash  # for download verification

    def _get_blob(self):
        try:
            return self._bucket.get_blob(self._key, timeout=self._timeout, retry=None)
        except Exception as err:  # noqa: BLE001 - classified below
            raise classify(self.name, err) from None

    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self._size:
            raise SourceError(
                f"{self.name}: read of {size} bytes at {offset} is outside the object "
                f"({self._size} bytes)"
            )
        if size == 0:
            return b""
        return read_range_with_retries(self._fetch_into, offset, size, self._policy, self.name)

    def read_many(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        if self.concurrency == 1:
            for offset, size in ranges:
                yield self.read(offset, size)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="gcs")
        yield from ordered_prefetch(self._executor, self.read, ranges, self.concurrency)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fetch_into(self, view: memoryview, offset: int) -> int:
        # a Blob per request: download_to_file updates blob attributes, and threads share
        # nothing but the client's connection pool this way
        blob = self._bucket.blob(self._key, generation=self._generation)
        sink = _ViewWriter(view, self.name)
        with self._lock:
            self.requests += 1
        try:
            blob.download_to_file(
                sink, client=self._client, start=offset, end=offset + len(view) - 1,
                raw_download=True, checksum=None, retry=None, timeout=self._timeout,
            )
        except SourceError:
            raise
        except Exception as err:  # noqa: BLE001 - classified below
            mapped = classify(self.name, err)
            if isinstance(mapped, TransientError):
                mapped.received = sink.n
            raise mapped from None
        finally:
            with self._lock:
                self.bytes_read += sink.n
        return sink.n
