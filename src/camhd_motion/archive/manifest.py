"""The manifest: a listing of archive videos, written once and reused by the workflow.

A TSV file with one comment line describing how it was made, a header, and one row per
video, sorted by (date_time, stem)::

    # camhd-motion manifest 1 {"source": "...", "start": "2016-01-01", "end": ...}
    stem	date_time	url	size	md5
    CAMHDA301-20160101T000000Z	2016-01-01T00:00:00	https://.../....mov	15342...	0f3a...

``url`` is an ``http(s)://`` or ``gs://`` URL or a local path (absolute, or relative to
the manifest's directory); ``size`` (bytes) and ``md5`` (hex) are empty when unknown.
``start``/``end`` in the comment line are the listed date range (inclusive days, ``None``
for unbounded), so a selection inside that range can reuse the listing.

Reading is the only work the Snakefile does at parse time (every SLURM/Batch job parses it
again), so :func:`read_manifest` is a plain split of lines: ~50 ms for 35,000 rows.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from camhd_motion.archive.names import ARCHIVE_PREFIX, parse_name
from camhd_motion.errors import UserError

MAGIC = "# camhd-motion manifest 1 "
COLUMNS = ("stem", "date_time", "url", "size", "md5")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class Video:
    """One archive video: its exact stem, scheduled start (ISO) and where its bytes are."""

    stem: str
    date_time: str  # ISO 8601 from the name, e.g. 2016-01-01T00:00:00
    url: str  # http(s):// or gs:// URL, or a local path
    size: int | None = None
    md5: str | None = None  # hex digest, when known

    @property
    def rel(self) -> str:
        """``YYYY/MM/DD/<stem>``: the video's place under the archive prefix."""
        return rel_path(self.stem)

    @property
    def archive_path(self) -> str:
        """``RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/<stem>.mov``."""
        return f"{ARCHIVE_PREFIX}/{self.rel}.mov"

    @property
    def is_remote(self) -> bool:
        return is_remote(self.url)


def is_remote(location: str) -> bool:
    return location.startswith(("http://", "https://", "gs://"))


def rel_path(stem: str) -> str:
    """``YYYY/MM/DD/<stem>`` for a valid CamHD stem (``CAMHDA301-YYYYMMDDT...``).

    Slices instead of parsing: names were validated when the manifest was written, and this
    runs once per video at every parse of the Snakefile.
    """
    d = stem[10:18]
    return f"{d[:4]}/{d[4:6]}/{d[6:]}/{stem}"


def video_from_location(location: str, size: int | None = None, md5: str | None = None) -> Video:
    """A :class:`Video` for a path or URL ending in a CamHD name (``ValueError`` if not)."""
    name = parse_name(location)
    if md5 is not None:
        md5 = md5.strip().lower() or None
        if md5 is not None and not _HEX32.match(md5):
            raise ValueError(f"{location}: not an md5 hex digest: {md5!r}")
    return Video(name.stem, name.date_time_iso, location, size, md5)


@dataclass
class Manifest:
    meta: dict
    videos: list[Video]


def write_manifest(path: str | os.PathLike, videos: Iterable[Video], meta: dict) -> int:
    """Write the manifest atomically (never a partial file under the final name).

    Duplicate stems (the same video listed twice) keep the first; returns the row count.
    """
    from camhd_motion.formats.common import atomic_write_text

    seen: dict[str, Video] = {}
    for v in videos:
        seen.setdefault(v.stem, v)
    rows = sorted(seen.values(), key=lambda v: (v.date_time, v.stem))
    lines = [MAGIC + json.dumps(meta, sort_keys=True), "\t".join(COLUMNS)]
    for v in rows:
        for field in (v.stem, v.url, v.md5 or ""):
            if "\t" in field or "\n" in field:
                raise UserError(f"{path}: a tab or newline in {field!r}")
        lines.append(
            f"{v.stem}\t{v.date_time}\t{v.url}\t{'' if v.size is None else v.size}\t{v.md5 or ''}"
        )
    atomic_write_text(path, "\n".join(lines) + "\n")
    return len(rows)


def read_meta(path: str | os.PathLike) -> dict | None:
    """The comment line's metadata, or ``None`` if the file is missing or not a manifest."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not first.startswith(MAGIC):
        return None
    try:
        return json.loads(first[len(MAGIC) :])
    except json.JSONDecodeError:
        return None


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Read a manifest written by :func:`write_manifest`.  Relative local paths are made
    relative to the current directory (they are stored relative to the manifest's)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise UserError(f"{path}: cannot read manifest: {err.strerror or err}") from None
    lines = text.splitlines()
    if not lines or not lines[0].startswith(MAGIC):
        raise UserError(f"{path}: not a camhd-motion manifest (first line is not {MAGIC!r})")
    meta = json.loads(lines[0][len(MAGIC) :])
    if len(lines) < 2 or tuple(lines[1].split("\t")) != COLUMNS:
        raise UserError(f"{path}: header is not {' '.join(COLUMNS)}")
    base = os.path.dirname(os.fspath(path))
    videos = []
    for n, line in enumerate(lines[2:], start=3):
        if not line:
            continue
        f = line.split("\t")
        if len(f) != 5:
            raise UserError(f"{path}: line {n}: expected 5 tab-separated fields, got {len(f)}")
        url = f[2]
        if base and not is_remote(url) and not os.path.isabs(url):
            url = os.path.join(base, url)
        videos.append(Video(f[0], f[1], url, int(f[3]) if f[3] else None, f[4] or None))
    return Manifest(meta, videos)


# -- selection ---------------------------------------------------------------------------


def parse_day(value: str | dt.date | None, what: str) -> dt.date | None:
    """``YYYY-MM-DD`` (a date, or the date part of an ISO date-time) or ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise UserError(f"{what}: not a date (YYYY-MM-DD): {value!r}") from None


def select(videos: Iterable[Video], start: dt.date | None = None, end: dt.date | None = None,
           pattern: str | None = None) -> list[Video]:
    """Videos whose scheduled start day is in ``[start, end]`` and whose stem matches the
    glob ``pattern`` (``*`` or ``None``: all)."""
    lo = start.isoformat() if start else ""
    hi = (end + dt.timedelta(days=1)).isoformat() if end else "\uffff"
    match = None
    if pattern and pattern != "*":
        match = re.compile(fnmatch.translate(pattern)).match
    return [v for v in videos if lo <= v.date_time < hi and (match is None or match(v.stem))]


def covers(meta: dict, start: dt.date | None, end: dt.date | None) -> bool:
    """Whether a listing made for ``meta``'s range contains every day of ``[start, end]``."""
    m_start = parse_day(meta.get("start"), "manifest start")
    m_end = parse_day(meta.get("end"), "manifest end")
    if m_start is not None and (start is None or start < m_start):
        return False
    return not (m_end is not None and (end is None or end > m_end))
