"""What a file or a response body is, from its first bytes: a check at the edges.

A server in maintenance answers 200 with an HTML page; a user renames a PNG to ``.mov``.
Such bytes must be reported as what they are -- "not a QuickTime movie (an HTML page)" --
instead of being parsed as a movie ("an atom claims bytes up to 1952999795"), kept as a
download, or read as an empty archive index.
"""

from __future__ import annotations

import re

# Top-level atoms a QuickTime / ISO-BMFF movie can start with (as the native engine's
# check_layout: the two engines give the same cause).
MOVIE_FIRST_ATOMS = frozenset({b"ftyp", b"wide", b"free", b"skip", b"mdat", b"moov", b"pnot",
                               b"uuid", b"junk", b"PICT", b"udta"})
HEAD_BYTES = 512  # enough to tell an HTML page, an image or text from a movie

_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<title|<\?xml|<!--)",
                   re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def is_html(head: bytes, content_type: str | None = None) -> bool:
    """Whether a body that starts with ``head`` (and has this ``Content-Type``) is a web
    page."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    return ctype in ("text/html", "application/xhtml+xml") or bool(_HTML.match(head))


def describe(head: bytes, content_type: str | None = None) -> str:
    """A few words on what a body that starts with ``head`` is: ``an HTML page titled
    'Maintenance'``, ``a PNG image``, ``text``, ``binary data``..."""
    if is_html(head, content_type):
        m = _TITLE.search(head)
        title = " ".join(m.group(1).decode("utf-8", "replace").split())[:60] if m else ""
        return f"an HTML page titled {title!r}" if title else "an HTML page"
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")):
        return "an archive (zip/gzip/bzip2/xz)"
    if not head:
        return "empty"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return "text" if printable >= 0.95 * len(text) else "binary data"


def quoted(kind: bytes) -> str:
    """An atom type as the native engine prints it: ``'moov'``, ``'\\x00abc'``."""
    out = "".join(chr(c) if 0x20 <= c < 0x7F and c not in b"'\\" else f"\\x{c:02x}"
                  for c in kind)
    return f"'{out}'"


def not_a_movie(head: bytes) -> str | None:
    """Why a file that starts with ``head`` is not a QuickTime movie, or ``None`` if its
    first atom is one a movie starts with."""
    if len(head) >= 8 and head[4:8] in MOVIE_FIRST_ATOMS:
        return None
    what = describe(head)
    if what in ("binary data", "empty"):
        what = f"starts with {quoted(head[4:8])}, not an atom" if len(head) >= 8 else what
    return f"not a QuickTime movie ({what})"
