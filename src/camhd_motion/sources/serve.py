"""A plain web server for a local archive tree, like the OOI raw-data archive (Apache).

What ``camhd-motion serve`` runs, for trying the streaming reader and the crawler without
the real archive: HTTP/1.1 with keep-alive, Apache-style index pages
(:mod:`~camhd_motion.sources.index_page`), single byte ranges (``bytes=a-b``, ``a-``,
``-n`` -> 206 + ``Content-Range``; 416 past the end; multiple ranges are ignored, as RFC
9110 allows), HEAD, and a 301 from a directory path without its trailing slash.  Binds to
127.0.0.1 by default.

Each step of a response is a method, so the tests' server
(``tests/fixtures/archive_server.py``) can add faults and accounting by overriding them;
there is no fault injection here.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from camhd_motion.sources.index_page import render_index

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_TYPES = {".mov": "video/quicktime", ".md5": "text/plain", ".json": "application/json"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 60  # idle keep-alive connections close after this
    # headers and body go out in separate writes: without this, Nagle + delayed ACK add
    # ~40 ms to every response (real servers set TCP_NODELAY too)
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.owner.connection_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.owner.connection_closed(self.connection)

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)

    def do_GET(self):
        self.server.owner.respond(self, head=False)

    def do_HEAD(self):
        self.server.owner.respond(self, head=True)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ArchiveServer

    def handle_error(self, request, client_address):
        # a client that hung up (timeouts, cancelled reads) is routine here, not a traceback
        if isinstance(sys.exc_info()[1], OSError):
            log.debug("%s: connection error: %s", client_address, sys.exc_info()[1])
            return
        super().handle_error(request, client_address)


class ArchiveServer:
    """``ArchiveServer(root).start()``; ``.url``; ``.stop()`` (or a context manager)."""

    def __init__(self, root, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._httpd = _HTTPServer((host, port), Handler)
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

    def connection_opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def connection_closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    # -- one response, step by step --------------------------------------------------

    def respond(self, h: Handler, head: bool) -> None:
        url_path = urllib.parse.unquote(urllib.parse.urlsplit(h.path).path)
        target = self._resolve(url_path)
        if target is None or not target.exists():
            return self.send_simple(h, 404, "not found\n", head)
        if target.is_dir():
            if not url_path.endswith("/"):
                return self.send_simple(h, 301, "moved\n", head,
                                        {"Location": urllib.parse.quote(url_path + "/")})
            body = render_index(url_path, str(target))
            return self.send_simple(h, 200, body, head, {"Content-Type": "text/html"})
        self.send_file(h, target, head)

    def _resolve(self, url_path: str) -> Path | None:
        rel = posixpath.normpath("/" + url_path).lstrip("/")
        path = (self.root / rel).resolve()
        return path if path == self.root or path.is_relative_to(self.root) else None

    def send_simple(self, h: Handler, status: int, body, head: bool,
                    headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else body.encode()
        self.send_head(h, status, {"Content-Type": "text/plain", **(headers or {}),
                                   "Content-Length": str(len(data))})
        if not head:
            h.wfile.write(data)

    def send_file(self, h: Handler, path: Path, head: bool) -> None:
        size = path.stat().st_size
        parsed = self.byte_range(h, size)
        if parsed == "unsatisfiable":
            return self.send_simple(h, 416, "range not satisfiable\n", head,
                                    {"Content-Range": f"bytes */{size}"})
        start, end, status = (0, size, 200) if parsed is None else (*parsed, 206)
        self.send_head(h, status, self.file_headers(h, path, start, end, status))
        if not head:
            self.send_body(h, path, start, end)

    def byte_range(self, h: Handler, size: int):
        """``(start, end_exclusive)`` asked for, ``"unsatisfiable"``, or None (no Range,
        or one this server does not honour: the whole file)."""
        spec = h.headers.get("Range")
        return None if spec is None else parse_range(spec, size)

    def file_headers(self, h: Handler, path: Path, start: int, end: int,
                     status: int) -> dict[str, str]:
        headers = {
            "Content-Type": _TYPES.get(path.suffix, "application/octet-stream"),
            "Content-Length": str(end - start),
            "Last-Modified": h.date_time_string(int(path.stat().st_mtime)),
            "Accept-Ranges": "bytes",
        }
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{path.stat().st_size}"
        return headers

    def send_head(self, h: Handler, status: int, headers: dict[str, str]) -> None:
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()

    def send_body(self, h: Handler, path: Path, start: int, end: int) -> None:
        with open(path, "rb") as f:
            f.seek(start)
            pos = start
            while pos < end:
                data = f.read(min(CHUNK, end - pos))
                if not data:
                    break
                try:
                    h.wfile.write(data)
                except OSError:  # the client hung up
                    h.close_connection = True
                    return
                pos += len(data)


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
