"""``camhd-motion serve``: serve a local archive tree over HTTP, like the OOI archive.

For trying the streaming reader and the crawler without the real archive: index pages
and ``Range`` support (:mod:`camhd_motion.sources.serve`).  A server with faults (no
Range, delays, throttling) is the tests' one: ``python -m tests.fixtures.archive_server``.
"""

from __future__ import annotations

import argparse
import os
import threading

from camhd_motion.errors import UserError


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve an archive directory over HTTP (for tests and trials)",
        description="Serve ROOT (laid out like RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD) over "
        "HTTP/1.1 with Apache-style index pages and Range support.  Prints the URL.",
    )
    p.add_argument("root", help="directory to serve")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.sources.serve import ArchiveServer

    if not os.path.isdir(args.root):
        raise UserError(f"{args.root}: not a directory")
    try:
        server = ArchiveServer(args.root, host=args.host, port=args.port)
    except OSError as err:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {err.strerror}") from None
    server.start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
