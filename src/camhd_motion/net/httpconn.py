"""Keep-alive HTTP(S) connections to one server, shared by a few threads.

``http.client`` is used directly (no third-party client): it gives exact control over
the requests sent and over how much of a response is read, and a connection is reused
only when its previous response was read to the end.  Low-level failures are mapped to
:class:`~camhd_motion.net.retry.TransientError` (worth retrying) or
:class:`~camhd_motion.errors.SourceError` (not).
"""

from __future__ import annotations

import contextlib
import http.client
import queue
import socket
import ssl
import urllib.parse

from camhd_motion import __version__
from camhd_motion.errors import SourceError
from camhd_motion.net.retry import TransientError

USER_AGENT = f"camhd-motion/{__version__}"
# Statuses a later attempt may not see: server overload, gateway trouble, rate limits.
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
MAX_REDIRECTS = 5
# Errors of the transport itself: resets, drops, timeouts, protocol garbage from a dying peer.
NETWORK_ERRORS = (OSError, http.client.HTTPException)


def split_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path?query)`` of an http(s) URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{url}: not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


class ConnectionPool:
    """Idle keep-alive connections to the host of ``url`` (thread-safe)."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.scheme, self.host, self.port, self.path = split_url(url)
        self.timeout = timeout
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._ssl = ssl.create_default_context() if self.scheme == "https" else None

    def _new(self) -> http.client.HTTPConnection:
        if self._ssl is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method: str, headers: dict[str, str] | None = None, path: str | None = None):
        """Send a request; return ``(connection, response)`` with the headers read.

        A reused connection the server has meanwhile closed is replaced once, silently: that
        is keep-alive housekeeping, not a fault.
        """
        hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
        for fresh in (False, True):
            conn, reused = None, False
            if not fresh:
                with contextlib.suppress(queue.Empty):
                    conn, reused = self._idle.get_nowait(), True
            if conn is None:
                conn = self._new()
            try:
                conn.request(method, path or self.path, headers=hdrs)
                return conn, conn.getresponse()
            except NETWORK_ERRORS as err:
                conn.close()
                if reused and _is_stale(err):
                    continue
                raise TransientError(describe(err)) from None
        raise AssertionError("unreachable")

    def release(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        """Return ``conn`` for reuse if ``resp`` was read to its end, else close it."""
        if resp.isclosed() and not resp.will_close and conn.sock is not None:
            self._idle.put(conn)
        else:
            conn.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _is_stale(err: Exception) -> bool:
    """An idle keep-alive connection the server closed: fails on send or on the status line."""
    return isinstance(err, (http.client.RemoteDisconnected, BrokenPipeError,
                            ConnectionResetError, ConnectionAbortedError))


def describe(err: BaseException) -> str:
    """A short human name for a network error."""
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, http.client.RemoteDisconnected):
        return "server closed the connection"
    if isinstance(err, http.client.IncompleteRead):
        return "connection dropped mid-response"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve host ({err.strerror})"
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def status_error(url: str, resp: http.client.HTTPResponse) -> Exception:
    """The exception for an unexpected status: transient for 5xx/429, else a SourceError."""
    if resp.status in RETRY_STATUSES:
        return TransientError(f"HTTP {resp.status} {resp.reason}",
                              retry_after=_retry_after(resp.getheader("Retry-After")))
    if resp.status in (404, 410):
        return SourceError(f"{url}: not found (HTTP {resp.status})")
    return SourceError(f"{url}: HTTP {resp.status} {resp.reason}")


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: not worth parsing, the backoff applies
        return None


def redirect_target(url: str, resp: http.client.HTTPResponse) -> str | None:
    """The absolute URL a 301/302/303/307/308 response points to, else None."""
    if resp.status in (301, 302, 303, 307, 308):
        location = resp.getheader("Location")
        if location:
            return urllib.parse.urljoin(url, location)
    return None
