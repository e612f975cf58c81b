"""Stream a video from Google Cloud Storage: one ranged GET per frame.

Same behaviour as :mod:`camhd_motion.sources.http`: exact ranges, a few requests in
flight, transient faults retried and resumed where they stopped
(:mod:`~camhd_motion.sources.retry`; the client library's own retries are off so there is
one budget).  The object's generation is pinned at open time, so an object overwritten
mid-analysis fails loudly instead of mixing two videos.  ``STORAGE_EMULATOR_HOST`` (e.g.
fake-gcs-server) is honoured by the client library itself.  Without Google credentials
the client falls back to anonymous access (public buckets).
"""

from __future__ import annotations

import logging

from camhd_motion.errors import PermanentSourceError, SourceError, UserError
from camhd_motion.sources.base import ByteSource
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.retry import (
    RETRY_STATUSES,
    Budget,
    Deadline,
    Fault,
    RateWatch,
    call_retrying,
    read_resuming,
)

log = logging.getLogger(__name__)


def parse_gs_url(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``gs://bucket/key``."""
    if not url.startswith("gs://"):
        raise UserError(f"{url}: not a gs:// URL")
    bucket, _, key = url[len("gs://") :].partition("/")
    if not bucket or not key:
        raise UserError(f"{url}: expected gs://BUCKET/OBJECT")
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


def classify(name: str, err: BaseException, received: int = 0,
             watch: RateWatch | None = None) -> Exception:
    """Map a client-library exception to a :class:`Fault` (retry) or a SourceError;
    ``received``, ``watch``: the bytes the attempt delivered first, and how fast."""
    # requests' ReadTimeout/ConnectTimeout, urllib3's ReadTimeoutError: no common base
    timed_out = isinstance(err, TimeoutError) or "Timeout" in type(err).__name__
    slow = watch is not None and watch.crawled(received, timed_out)
    import google.auth.exceptions
    import requests
    from google.api_core import exceptions as gexc
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(err, gexc.NotFound):
        return PermanentSourceError(f"{name}: not found")
    if isinstance(err, gexc.Forbidden | gexc.Unauthorized):
        return PermanentSourceError(f"{name}: access refused ({err.code})")
    if isinstance(err, gexc.GoogleAPICallError) and err.code in RETRY_STATUSES:
        return Fault(f"HTTP {err.code}", received, slow=slow)
    if isinstance(err, requests.RequestException | Urllib3Error | ConnectionError
                  | TimeoutError | google.auth.exceptions.TransportError):
        return Fault(type(err).__name__, received, slow=slow)
    if isinstance(err, gexc.GoogleAPICallError):
        return SourceError(f"{name}: {err.code} {err.message}")
    return err


class _ViewWriter:
    """A write-only file object filling a memoryview: keeps what arrived before a fault,
    and cuts a transfer that crawls (the client's read timeout is per socket read)."""

    def __init__(self, view: memoryview, name: str, options: NetOptions,
                 deadline: Deadline | None = None):
        self.view = view
        self.name = name
        self.n = 0
        self.watch = RateWatch(options, deadline)

    def write(self, data) -> int:
        k = len(data)
        if self.n + k > len(self.view):
            raise SourceError(f"{self.name}: server sent more bytes than requested")
        self.view[self.n : self.n + k] = data
        self.n += k
        self.watch.check(self.n)
        return k


class GcsRangeSource(ByteSource):
    """A :class:`~camhd_motion.sources.base.ByteSource` over a GCS object.

    ``net``: :class:`~camhd_motion.sources.options.NetOptions` fields (timeouts, retries).
    """

    def __init__(
        self,
        url: str,
        *,
        concurrency: int = 4,
        anonymous: bool = False,
        client=None,
        on_no_range: str = "error",  # accepted for option compatibility: GCS honours Range
        cache_dir: str | None = None,  # likewise unused
        **net,
    ):
        super().__init__(url, concurrency)
        self.requests = 0
        self.options = NetOptions(**net)
        self._deadline = Deadline(url, self.options.deadline)  # from opening the video
        bucket_name, self._key = parse_gs_url(url)
        self._client = client or make_client(anonymous)
        self._bucket = self._client.bucket(bucket_name)
        blob = call_retrying(self._get_blob, Budget(url, self.options, self._deadline))
        if blob is None:
            raise PermanentSourceError(f"{url}: not found")
        self._size = int(blob.size)
        self._generation = blob.generation
        self.md5_base64 = blob.md5_hash  # for download verification

    def _get_blob(self, budget: Budget):
        try:
            return self._bucket.get_blob(self._key, timeout=budget.timeouts(), retry=None)
        except Exception as err:  # noqa: BLE001 - classified below
            raise classify(self.name, err) from None

    def size(self) -> int:
        return self._size

    def _read(self, offset: int, size: int) -> bytes:
        return read_resuming(self._fetch_into, offset, size,
                             Budget(self.name, self.options, self._deadline))

    def _fetch_into(self, view: memoryview, offset: int, budget: Budget) -> None:
        # a Blob per request: download_to_file updates blob attributes, and threads share
        # nothing but the client's connection pool this way
        blob = self._bucket.blob(self._key, generation=self._generation)
        sink = _ViewWriter(view, self.name, self.options, budget.deadline)
        with self._count_lock:
            self.requests += 1
        try:
            blob.download_to_file(
                sink, client=self._client, start=offset, end=offset + len(view) - 1,
                raw_download=True, checksum=None, retry=None, timeout=budget.timeouts(),
            )
        except (SourceError, Fault):  # ours, from the sink: already classified
            raise
        except Exception as err:  # noqa: BLE001 - classified below
            raise classify(self.name, err, sink.n, sink.watch) from None
        finally:
            self._count(sink.n)
        if sink.n < len(view):
            raise Fault("connection dropped mid-response", sink.n,
                        slow=sink.watch.crawled(sink.n))
