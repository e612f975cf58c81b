"""A local stand-in for the OOI raw-data archive, for tests and benchmarks.

Serves a directory laid out like the archive (``RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD``)
over HTTP/1.1 with keep-alive: Apache-style index pages, single-range requests
(``bytes=a-b``, ``a-``, ``-n`` -> 206 + ``Content-Range``), ``.md5`` siblings as plain
files.  Faults (:class:`~camhd_motion.net.faults.Faults`) can be switched on while it
runs, and every response is recorded with the body bytes actually handed to the socket,
so tests can assert what a client transferred.  Binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import socket
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from camhd_motion.net.faults import Faults
from camhd_motion.net.index_page import render_index

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_TYPES = {".mov": "video/quicktime", ".md5": "text/plain", ".json": "application/json"}


@dataclass
class RequestRecord:
    method: str
    path: str
    range: str | None  # the Range header as sent
    status: int
    start: int | None = None  # file offset of the first body byte (file responses)
    length: int = 0  # body bytes promised (Content-Length)
    sent: int = 0  # body bytes handed to the socket


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 60  # idle keep-alive connections close after this
    # headers and body go out in separate writes: without this, Nagle + delayed ACK add
    # ~40 ms to every response (real servers set TCP_NODELAY too)
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)

    def do_GET(self):
        self.server.owner._serve(self, head=False)

    def do_HEAD(self):
        self.server.owner._serve(self, head=True)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ArchiveServer

    def handle_error(self, request, client_address):
        # a client that hung up (timeouts, injected drops) is routine here, not a traceback
        if isinstance(sys.exc_info()[1], OSError):
            log.debug("%s: connection error: %s", client_address, sys.exc_info()[1])
            return
        super().handle_error(request, client_address)


class ArchiveServer:
    """``ArchiveServer(root).start()``; ``.url``, ``.faults``, ``.bytes_sent``,
    ``.requests``; ``.stop()`` (or use as a context manager)."""

    def __init__(self, root, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root).resolve()
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self.bytes_sent = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0  # TCP connections accepted (keep-alive reuse keeps this low)
        self.redirects: dict[str, str] = {}  # URL path -> Location, answered with 302
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> ArchiveServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="archive-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut open keep-alive connections, release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset_stats(self) -> None:
        with self._lock:
            self.requests = []
            self.bytes_sent = 0
            self.max_in_flight = 0
            self.connections = len(self._conns)

    def file_requests(self) -> list[RequestRecord]:
        """Recorded responses that carried file bytes (not index pages or errors)."""
        with self._lock:
            return [r for r in self.requests if r.start is not None]

    # -- serving -----------------------------------------------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
                self.connections += 1
            else:
                self._conns.discard(conn)

    def _serve(self, h: _Handler, head: bool) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._respond(h, head)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _respond(self, h: _Handler, head: bool) -> None:
        rec = RequestRecord(h.command, h.path, h.headers.get("Range"), 0)
        with self._lock:
            self.requests.append(rec)
        wait = self.faults.take_wait()
        if wait:
            time.sleep(wait)
        status = self.faults.take_status()
        if status is not None:
            return self._simple(h, rec, status, f"injected fault {status}\n", head)
        url_path = urllib.parse.unquote(urllib.parse.urlsplit(h.path).path)
        if url_path in self.redirects:
            return self._simple(h, rec, 302, "found\n", head,
                                {"Location": self.redirects[url_path]})
        target = self._resolve(url_path)
        if target is None or not target.exists():
            return self._simple(h, rec, 404, "not found\n", head)
        if target.is_dir():
            if not url_path.endswith("/"):
                return self._simple(h, rec, 301, "moved\n", head,
                                    {"Location": urllib.parse.quote(url_path + "/")})
            body = render_index(url_path, str(target))
            return self._simple(h, rec, 200, body, head, {"Content-Type": "text/html"})
        self._send_file(h, rec, target, head)

    def _resolve(self, url_path: str) -> Path | None:
        rel = posixpath.normpath("/" + url_path).lstrip("/")
        path = (self.root / rel).resolve()
        return path if path == self.root or path.is_relative_to(self.root) else None

    def _simple(self, h, rec, status, body, head, headers=None) -> None:
        data = body if isinstance(body, bytes) else body.encode()
        rec.status = status
        h.send_response(status)
        h.send_header("Content-Type", "text/plain")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if not head:
            h.wfile.write(data)

    def _send_file(self, h: _Handler, rec: RequestRecord, path: Path, head: bool) -> None:
        size = path.stat().st_size
        start, end, status = 0, size, 200  # end exclusive
        spec = h.headers.get("Range") if self.faults.ranges else None
        if spec is not None:
            parsed = parse_range(spec, size)
            if parsed == "unsatisfiable":
                return self._simple(h, rec, 416, "range not satisfiable\n", head,
                                    {"Content-Range": f"bytes */{size}"})
            if parsed is not None:  # None: malformed or multi-range, ignored (RFC 9110)
                start, end = parsed
                status = 206
        rec.status, rec.start, rec.length = status, start, end - start
        h.send_response(status)
        h.send_header("Content-Type", _TYPES.get(path.suffix, "application/octet-stream"))
        h.send_header("Content-Length", str(end - start))
        h.send_header("Last-Modified", h.date_time_string(int(path.stat().st_mtime)))
        if self.faults.ranges:
            h.send_header("Accept-Ranges", "bytes")
        else:  # like the stock http.server: HTTP/1.0 semantics, one response per connection
            h.send_header("Connection", "close")
            h.close_connection = True
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        h.end_headers()
        if head:
            return
        cut = self.faults.take_cut(end - start)
        stop = end if cut is None else start + cut
        self._stream(h, rec, path, start, stop)
        if cut is not None:  # a dropped connection: no more bytes, no orderly close
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)

    def _stream(self, h: _Handler, rec: RequestRecord, path: Path, start: int, stop: int):
        rate = self.faults.rate
        chunk = CHUNK if not rate else max(1024, min(CHUNK, int(rate / 20)))
        with open(path, "rb") as f:
            f.seek(start)
            pos = start
            while pos < stop:
                data = f.read(min(chunk, stop - pos))
                if not data:
                    break
                # counted before the write, so a test that has its bytes sees them counted;
                # a client that hangs up mid-write leaves at most one chunk over-counted
                with self._lock:
                    rec.sent += len(data)
                    self.bytes_sent += len(data)
                try:
                    h.wfile.write(data)
                except OSError:  # the client hung up
                    h.close_connection = True
                    return
                pos += len(data)
                if rate:
                    time.sleep(len(data) / rate)


def parse_range(spec: str, size: int):
    """``(start, end_exclusive)`` of a single byte range; ``"unsatisfiable"``; or None
    for anything this server does not honour (multiple ranges, garbage)."""
    m = _RANGE.fullmatch(spec.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:  # suffix: the last n bytes
        n = int(last)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end
