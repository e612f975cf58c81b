"""The HTTP(S) client shared by streaming, downloads and archive listings: urllib3.

urllib3 does the connection work: a keep-alive pool per host, safe to share between
threads (a connection goes back to the pool only once its response was read to the end,
and one the server closed while idle is replaced); TLS with the system CA store
(``SSL_CERT_FILE`` overrides it); redirects (up to 5); connect and read timeouts; and
``Content-Length`` enforcement, so a body cut short is an error, never a short read.

It is told not to retry anything itself: every fault comes back as a
:class:`~camhd_motion.sources.retry.Fault`, so the caller's one budget
(:mod:`camhd_motion.sources.retry`) decides, and a broken body can be resumed from the
byte where it stopped -- which urllib3 cannot do.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from collections.abc import Callable

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.util import Retry, Timeout

from camhd_motion import __version__
from camhd_motion.errors import PermanentSourceError, SourceError, UserError
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.retry import RETRY_STATUSES, Budget, Deadline, Fault, RateWatch

USER_AGENT = f"camhd-motion/{__version__}"
MAX_REDIRECTS = 5
# Bytes asked of the socket per read: one recv at most (read1), so the rate watch runs
# even when a server trickles; large enough to cost nothing on a fast link.
CHUNK = 256 * 1024
# urllib3 follows redirects and retries nothing else: faults go to the caller's budget.
_REDIRECTS_ONLY = Retry(total=None, connect=0, read=0, status=0, other=0,
                        redirect=MAX_REDIRECTS, raise_on_status=False)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)|bytes\s+\*/(\d+)")


def check_url(url: str) -> str:
    """``url`` if it is a well-formed http(s) URL, else a one-line :class:`UserError`."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range or not a number
    except ValueError as err:
        raise UserError(f"{url}: not a valid URL ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{url}: not an http(s) URL")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise UserError(f"{url!r}: not a valid URL (spaces or control characters)")
    return url


def pool_manager(connections: int) -> urllib3.PoolManager:
    """Connections to any host, at most ``connections`` kept per host (one per thread)."""
    return urllib3.PoolManager(maxsize=max(1, connections), retries=_REDIRECTS_ONLY)


def get(pool: urllib3.PoolManager, url: str, budget: Budget,
        headers: dict[str, str] | None = None, *, preload: bool = False):
    """One GET of ``url`` (redirects followed); the body is left unread unless ``preload``.

    Transport faults raise :class:`Fault`; the status is the caller's to judge.
    """
    connect, read = budget.timeouts()
    try:
        return pool.urlopen("GET", url, headers={"User-Agent": USER_AGENT, **(headers or {})},
                            timeout=Timeout(connect=connect, read=read),
                            preload_content=preload, decode_content=False)
    except MaxRetryError as err:
        if isinstance(err.reason, ResponseError):
            raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
        raise Fault(describe(err.reason)) from None
    except (HTTPError, OSError) as err:
        raise Fault(describe(err)) from None


def final_url(resp, url: str) -> str:
    """The URL ``resp`` came from, after the redirects urllib3 followed."""
    for step in getattr(resp.retries, "history", ()):
        if step.redirect_location:
            url = urllib.parse.urljoin(step.url, step.redirect_location)
    return url


def finish(resp) -> None:
    """Hand the connection back: reusable if the body was read to its end, else closed."""
    if not resp.closed:
        resp.close()
    resp.release_conn()


def status_error(url: str, resp) -> Exception:
    """The exception for an unexpected status: a :class:`Fault` for 5xx/429/408 (worth
    retrying); a :class:`PermanentSourceError` for a file that is not there or refused
    (404/410, 401/403: asking again will not help); else a one-line :class:`SourceError`."""
    if resp.status in RETRY_STATUSES:
        return Fault(f"HTTP {resp.status} {resp.reason}", response=resp)
    if resp.status in (404, 410):
        return PermanentSourceError(f"{url}: not found (HTTP {resp.status})")
    if resp.status in (401, 403):
        return PermanentSourceError(f"{url}: access refused (HTTP {resp.status} "
                                    f"{resp.reason})")
    return SourceError(f"{url}: HTTP {resp.status} {resp.reason}")


def peek(resp, n: int = 512) -> bytes:
    """Up to ``n`` bytes of an unread body (what it is, for a message); the rest is left
    unread, so :func:`finish` closes the connection instead of reading a huge body."""
    try:
        return resp.read(n, decode_content=False) or b""
    except (HTTPError, OSError):
        return b""


def not_the_file(url: str, resp, what: str = "the file", *,
                 sniff: bool = False) -> SourceError | None:
    """A :class:`PermanentSourceError` if ``resp`` (a 200 or 206) is a web page where
    ``what`` was asked for -- an error or maintenance page served with status 200.  By its
    ``Content-Type``, and with ``sniff`` by its first bytes too (the body is then spent)."""
    from camhd_motion.sources.content import describe, is_html

    ctype = resp.headers.get("Content-Type")
    head = peek(resp) if sniff or is_html(b"", ctype) else b""
    if not is_html(head, ctype):
        return None
    return PermanentSourceError(f"{url}: the server sent {describe(head, ctype)} "
                                f"(HTTP {resp.status}) instead of {what}")


def get_text(pool: urllib3.PoolManager, url: str, budget: Budget, *,
             missing_ok: bool = False) -> str | None:
    """The body of a small page (an index page, an ``.md5`` sibling); None for a 404/410
    if ``missing_ok``.  The body is read inside the request, so a drop is a Fault too."""
    resp = get(pool, url, budget, preload=True)
    try:
        if missing_ok and resp.status in (404, 410):
            return None
        if resp.status != 200:
            raise status_error(url, resp)
        return resp.data.decode("utf-8", errors="replace")
    finally:
        finish(resp)


def content_range(resp, url: str) -> tuple[int | None, int]:
    """``(first byte, total size)`` of a 206 (``bytes a-b/n``), ``(None, n)`` of a 416
    (``bytes */n``)."""
    header = (resp.headers.get("Content-Range") or "").strip()
    m = _CONTENT_RANGE.fullmatch(header)
    if not m:
        raise SourceError(f"{url}: bad or missing Content-Range {header!r}")
    if m.group(4) is not None:
        return None, int(m.group(4))
    return int(m.group(1)), int(m.group(3))


def copy_body(resp, write: Callable[[bytes], object], options: NetOptions,
              want: int | None = None, deadline: Deadline | None = None) -> int:
    """Pass ``want`` body bytes (all, if None) to ``write``; return how many.

    A transfer that breaks off, times out or crawls raises :class:`Fault` with
    ``received`` = the bytes already written, so the caller can resume after them, and
    ``slow`` if it ran below ``min_rate`` (then it does not count as progress); past the
    video's ``deadline``, :class:`~camhd_motion.sources.retry.DeadlineExceeded`.
    """
    watch = RateWatch(options, deadline)
    n = 0
    while want is None or n < want:
        try:
            chunk = resp.read1(CHUNK if want is None else min(CHUNK, want - n),
                               decode_content=False)
        except (HTTPError, OSError) as err:
            timed_out = isinstance(err, ReadTimeoutError | TimeoutError)
            raise Fault(describe(err), n, slow=watch.crawled(n, timed_out)) from None
        if not chunk:
            break
        write(chunk)
        n += len(chunk)
        watch.check(n)
    if want is not None and n < want:
        raise Fault("connection dropped mid-response", n, slow=watch.crawled(n))
    return n


def describe(err: BaseException) -> str:
    """A short human name for a transport error."""
    if isinstance(err, NameResolutionError):
        return "cannot resolve host"
    if isinstance(err, NewConnectionError):  # before its base class ConnectTimeoutError
        cause = err.__cause__
        return f"cannot connect ({getattr(cause, 'strerror', None) or cause or err})"
    if isinstance(err, ConnectTimeoutError):
        return "connect timed out"
    if isinstance(err, ReadTimeoutError | TimeoutError):
        return "timed out"
    if isinstance(err, SSLError):
        return f"TLS error ({err})"
    if isinstance(err, ProtocolError) and len(err.args) > 1:
        err = err.args[1]  # the underlying error
    if isinstance(err, http.client.IncompleteRead):
        return "connection dropped mid-response"
    if isinstance(err, http.client.RemoteDisconnected):
        return "server closed the connection"
    return getattr(err, "strerror", None) or str(err) or type(err).__name__
