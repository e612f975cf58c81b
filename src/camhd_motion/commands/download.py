"""``camhd-motion download URL -o PATH [--md5 auto|none|HEX] [--keep]``: fetch one video whole.

The workflow's download step (``read_mode: download``) calls this command, and so can a
user whose server cannot stream (no ``Range``).  The work is
:func:`camhd_motion.sources.download.download`: resumable (``PATH.part``), checked against the
size and the ``.md5`` sibling (or the given digest), renamed into place only when
verified.  Exit 0 on success, 2 on a bad argument or an unwritable destination, 3 when the
file cannot be had (not found, refused, an HTML page or anything else that is not a movie
in place of a ``.mov``, an md5 mismatch after a full re-download: recorded in
``--failed-dir``), 4 when the failure is transient (a failing or stalled server, a full
disk: run again; the ``.part`` is kept and resumed).
"""

from __future__ import annotations

import argparse
import logging
import re

from camhd_motion.errors import UserError, is_permanent
from camhd_motion.params import add_arguments, as_dict, from_args
from camhd_motion.sources.options import NetOptions

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "download",
        help="download one video (http(s):// or gs://), resumable and md5-verified",
        description="Download URL (http(s):// or gs://) to PATH.  Bytes go to PATH.part; a "
        "rerun resumes an interrupted download.  The file is verified (size, and the .md5 "
        "sibling when there is one) before it is renamed to PATH; on an md5 mismatch it is "
        "downloaded once more, then the command fails.",
    )
    p.add_argument("url", help="http(s):// or gs:// URL of the .mov")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="destination file")
    p.add_argument("--md5", default="auto", metavar="auto|none|HEX",
                   help="auto: check against URL.md5 if it exists (default); none: do not "
                   "check; HEX: the expected digest")
    p.add_argument("--keep", action="store_true",
                   help="if PATH already exists, keep it and download nothing (only verified "
                   "files are ever renamed to PATH)")
    p.add_argument("--timeout", type=float, default=None,
                   help="shorthand: --connect-timeout and --read-timeout at once, seconds")
    p.add_argument("--failed-dir", metavar="DIR",
                   help="when the file cannot be had (exit 3) write the one-line error to "
                   "DIR/YYYY/MM/DD/<stem>.txt (the workflow's record of bad videos)")
    add_arguments(p, NetOptions, "network (docs/NETWORK.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.sources.download import download

    if args.md5 not in ("auto", "none") and not re.fullmatch(r"[0-9a-fA-F]{32}", args.md5):
        raise UserError(f"--md5 must be auto, none or a 32-digit hex digest, not {args.md5!r}")
    if not args.url.startswith(("http://", "https://", "gs://")):
        raise UserError(f"{args.url}: not an http(s):// or gs:// URL")
    net = as_dict(from_args(NetOptions, args))
    try:
        options = NetOptions(**net, timeout=args.timeout)
    except ValueError as err:
        raise UserError(f"--timeout: {err}") from None
    try:
        result = download(args.url, args.output, md5=args.md5, keep=args.keep,
                          options=options)
    except Exception as err:
        if args.failed_dir and is_permanent(err):
            from camhd_motion.pipeline.jobs import failed_record_path, record_failure

            record_failure(failed_record_path(args.failed_dir, args.url), err)
        raise
    if result.downloads == 0:
        log.info("%s: kept existing %s", args.url, result.path)
    else:
        log.info("%s -> %s: %d bytes (%d transferred, %d reused from .part), md5 %s",
                 args.url, result.path, result.size, result.bytes_transferred,
                 result.resumed_from, result.md5 or "not checked")
    return 0
