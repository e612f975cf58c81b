"""Where the archive's videos are listed from, and how.

Four kinds of source, chosen from the source string (:func:`source_kind`):

``local``
    a directory in the archive layout (``RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/*.mov``,
    the directory itself or any parent of ``RS03ASHS``);
``manifest``
    a CSV/TSV file with a ``url``/``path``/``location`` column (or ``mov_basename``, made
    into a URL under ``base_url``), optional ``size``/``file_size`` and ``md5``; or a text
    file with one path or URL per line;
``http``
    the OOI raw-data server (or anything serving the same HTML index pages: links whose
    href equals their text, ``/`` suffix = directory), crawled under its root;
``gs``
    ``gs://bucket/prefix`` with the archive layout under the prefix, listed with
    google-cloud-storage.

Listing a date range visits only the ``YYYY``, ``YYYY/MM`` and ``YYYY/MM/DD`` directories
that overlap it.  Names are kept exactly as they are (``Z`` suffix, ``_NN`` parts).  Only
archive names under the source root are accepted: files whose names are not CamHD names,
and index entries or objects that are not plain names in their day directory
(``../../etc/CAMHDA301-...mov``), are skipped and reported (a warning naming one of them).

What a server sends is checked: an index page that is not an index (a maintenance page
served with 200) or an HTML ``.md5`` sibling is an error naming the URL, never an empty
archive.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from camhd_motion.archive.manifest import Video, is_remote, select, video_from_location
from camhd_motion.archive.names import ARCHIVE_PREFIX, is_video_name
from camhd_motion.errors import SourceError, UserError

log = logging.getLogger(__name__)

OOI_RAW_DATA = "https://rawdata.oceanobservatories.org/files"
MANIFEST_SUFFIXES = (".csv", ".tsv", ".txt", ".list")
_LOCATION_COLUMNS = ("url", "path", "location", "file", "filename")
_SIZE_COLUMNS = ("size", "file_size")
_HTTP_WORKERS = 8
_DAY_PATH = re.compile(r"\d{4}/\d{2}/\d{2}/[^/\\]+")


def source_kind(source: str) -> str:
    """``local``, ``manifest``, ``http`` or ``gs`` (raises :class:`UserError` if none)."""
    if source.startswith(("http://", "https://")):
        return "http"
    if source.startswith("gs://"):
        return "gs"
    if os.path.isdir(source):
        return "local"
    if os.path.isfile(source):
        return "manifest"
    raise UserError(f"source {source!r}: no such directory or file (nor an http(s):// or "
                    "gs:// URL)")


def list_source(source: str, start: dt.date | None = None, end: dt.date | None = None, *,
                md5: bool = True, base_url: str = OOI_RAW_DATA,
                net: dict | None = None) -> list[Video]:
    """The videos of ``source`` whose scheduled start day is in ``[start, end]``.

    ``md5``: also read ``.md5`` siblings (one small request per video for ``http``);
    ``net``: timeouts and retries for ``http`` (:class:`NetOptions` fields).
    """
    kind = source_kind(source)
    if kind == "local":
        videos = list_local(source, start, end, md5=md5)
    elif kind == "manifest":
        videos = list_manifest_file(source, base_url=base_url)
    elif kind == "http":
        videos = list_http(source, start, end, md5=md5, net=net)
    else:
        videos = list_gcs(source, start, end)
    return select(videos, start, end)


# -- date directories --------------------------------------------------------------------


def _year_ok(y: int, start, end) -> bool:
    return (start is None or y >= start.year) and (end is None or y <= end.year)


def _month_ok(y: int, m: int, start, end) -> bool:
    return (start is None or (y, m) >= (start.year, start.month)) and (
        end is None or (y, m) <= (end.year, end.month)
    )


def _day_ok(day: dt.date, start, end) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def date_dirs(list_subdirs: Callable[[str], Iterable[str]], start: dt.date | None,
              end: dt.date | None) -> list[str]:
    """``YYYY/MM/DD`` directories inside ``[start, end]``.

    ``list_subdirs(rel)`` names the subdirectories of ``rel`` (``""``, ``"2016"``,
    ``"2016/01"``); it is called only for years and months that overlap the range.
    """
    days = []
    for y in sorted(n for n in list_subdirs("") if re.fullmatch(r"\d{4}", n)):
        if not _year_ok(int(y), start, end):
            continue
        for m in sorted(n for n in list_subdirs(y) if re.fullmatch(r"\d{2}", n)):
            if not _month_ok(int(y), int(m), start, end):
                continue
            for d in sorted(n for n in list_subdirs(f"{y}/{m}") if re.fullmatch(r"\d{2}", n)):
                try:
                    day = dt.date(int(y), int(m), int(d))
                except ValueError:
                    continue
                if _day_ok(day, start, end):
                    days.append(f"{y}/{m}/{d}")
    return days


def _skipped(kind: str, names: list[str], what: str = "files that are not CamHD video "
             "names") -> None:
    if names:
        log.warning("%s: skipped %d %s (e.g. %r)", kind, len(names), what, names[0])


def is_plain_name(name: str) -> bool:
    """A single path component (a directory's ``/`` suffix allowed): no ``..``, no
    separators, no control characters -- an entry that stays inside its directory."""
    base = name[:-1] if name.endswith("/") else name
    return (base not in ("", ".", "..") and "/" not in base and "\\" not in base
            and not any(ord(c) < 0x20 or c == "\x7f" for c in base))


def parse_md5(text: str) -> str | None:
    """The digest of an ``md5sum``-style line (``<hex>  <name>``), or ``None``."""
    from camhd_motion.sources.download import parse_md5 as parse

    try:
        return parse(text, "")
    except SourceError:
        return None


# -- local directory ---------------------------------------------------------------------


def instrument_dir(root: str) -> str:
    """The ``.../06-CAMHDA301`` directory of a local archive root."""
    root = os.path.abspath(root)
    if os.path.basename(root.rstrip("/")) == ARCHIVE_PREFIX.rsplit("/", 1)[-1]:
        return root
    for base in (root, os.path.dirname(root)):
        candidate = os.path.join(base, ARCHIVE_PREFIX)
        if os.path.isdir(candidate):
            return candidate
    raise UserError(f"source {root}: no {ARCHIVE_PREFIX} directory inside")


def list_local(root: str, start: dt.date | None = None, end: dt.date | None = None, *,
               md5: bool = True) -> list[Video]:
    base = instrument_dir(root)

    def subdirs(rel: str) -> list[str]:
        try:
            with os.scandir(os.path.join(base, rel)) as it:
                return [e.name for e in it if e.is_dir()]
        except FileNotFoundError:
            return []

    videos, skipped = [], []
    for day in date_dirs(subdirs, start, end):
        day_dir = os.path.join(base, day)
        with os.scandir(day_dir) as it:
            entries = {e.name: e for e in it if e.is_file()}
        for name, entry in sorted(entries.items()):
            if not name.endswith(".mov"):
                continue
            if not is_video_name(name):
                skipped.append(name)
                continue
            digest = None
            if md5 and name + ".md5" in entries:
                with open(entries[name + ".md5"].path, encoding="utf-8", errors="replace") as f:
                    digest = parse_md5(f.read(200))
            videos.append(video_from_location(entry.path, entry.stat().st_size, digest))
    _skipped(root, skipped)
    return videos


def newest_day_dir_mtime(root: str, start: dt.date | None, end: dt.date | None) -> float:
    """The latest mtime of the day directories in range (adding or removing a video
    changes its directory's mtime): a cheap staleness check for a local listing."""
    base = instrument_dir(root)
    newest = os.stat(base).st_mtime

    def subdirs(rel: str) -> list[str]:
        nonlocal newest
        path = os.path.join(base, rel)
        newest = max(newest, os.stat(path).st_mtime)
        with os.scandir(path) as it:
            return [e.name for e in it if e.is_dir()]

    for day in date_dirs(subdirs, start, end):
        newest = max(newest, os.stat(os.path.join(base, day)).st_mtime)
    return newest


# -- a manifest file (CSV / TSV / list) --------------------------------------------------


def _read_listing(path: str) -> str:
    """The text of a listing file; a one-line :class:`UserError` for anything else (a
    video, an image, a binary file given as ``source:``)."""
    from camhd_motion.sources.content import HEAD_BYTES, describe, not_a_movie

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise UserError(f"source {path}: cannot read: {err.strerror or err}") from None
    if not_a_movie(data[:HEAD_BYTES]) is None:
        raise UserError(f"source {path}: a movie, not a listing (give its directory, or a "
                        "CSV/TSV/list file naming it)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UserError(f"source {path}: not a text listing ({describe(data[:HEAD_BYTES])}; "
                        f"not UTF-8 at byte {err.start})") from None
    if "\0" in text:
        raise UserError(f"source {path}: not a text listing (binary data: NUL bytes)")
    return text


def list_manifest_file(path: str, *, base_url: str = OOI_RAW_DATA) -> list[Video]:
    """Videos of a user's listing file (see the module doc)."""
    base_dir = os.path.dirname(os.path.abspath(path))
    text = _read_listing(path)
    lines = text.splitlines()
    if not lines:
        raise UserError(f"source {path}: empty file")
    first = lines[0]
    delimiter = "\t" if "\t" in first else ","
    header = [h.strip().lower() for h in first.split(delimiter)]

    def resolve(location: str) -> str:
        if is_remote(location) or os.path.isabs(location):
            return location
        return os.path.normpath(os.path.join(base_dir, location))

    videos, skipped, malformed = [], [], []
    loc_col = next((c for c in _LOCATION_COLUMNS if c in header), None)
    if loc_col is None and "mov_basename" not in header:
        # a plain list: one path or URL per line (no header)
        if is_video_name(first.strip()) or "/" in first:
            for line in lines:
                loc = line.strip()
                if not loc or loc.startswith("#"):
                    continue
                if not is_video_name(loc):
                    skipped.append(loc)
                elif not _valid_url(loc):
                    malformed.append(loc)
                else:
                    videos.append(video_from_location(resolve(loc)))
            _skipped(path, skipped)
            _skipped(path, malformed, "rows whose URL is not valid")
            return videos
        raise UserError(f"source {path}: no url/path/location/mov_basename column in header "
                        f"{first!r}")
    size_col = next((c for c in _SIZE_COLUMNS if c in header), None)
    reader = csv.DictReader(lines[1:], fieldnames=header, delimiter=delimiter)
    for n, row in enumerate(reader, start=2):
        if loc_col is not None:
            loc = (row.get(loc_col) or "").strip()
            if not loc:
                continue
            loc = resolve(loc)
        else:
            name = (row.get("mov_basename") or "").strip()
            if not name:
                continue
            name = name if name.endswith(".mov") else name + ".mov"
            if not is_plain_name(name) or not is_video_name(name):
                skipped.append(name)
                continue
            loc = f"{base_url.rstrip('/')}/{video_from_location(name).archive_path}"
        if not _valid_url(loc):
            malformed.append(loc)
            continue
        size = (row.get(size_col) or "").strip() if size_col else ""
        try:
            videos.append(video_from_location(
                loc, int(size) if size.isdigit() else None, row.get("md5") or None))
        except ValueError as err:
            if "md5" in str(err):
                raise UserError(f"source {path}: line {n}: {err}") from None
            skipped.append(loc)
    _skipped(path, skipped)
    _skipped(path, malformed, "rows whose URL is not valid")
    return videos


def _valid_url(location: str) -> bool:
    """A local path, or a well-formed http(s):// or gs:// URL (a malformed one would fail
    its job as a usage error at every run: it is left out of the listing instead)."""
    from camhd_motion.errors import CamhdError

    try:
        if location.startswith(("http://", "https://")):
            from camhd_motion.sources.httpclient import check_url

            check_url(location)
        elif location.startswith("gs://"):
            from camhd_motion.sources.gcs import parse_gs_url

            parse_gs_url(location)
    except CamhdError:
        return False
    return True


# -- the OOI raw-data HTTP index ---------------------------------------------------------

_LINK = re.compile(r"<a\s[^>]*?href=\"([^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
# what every autoindex page has (Apache, nginx, lighttpd, ``camhd-motion serve``)
_INDEX_MARK = re.compile(r"Index of|Parent Directory", re.IGNORECASE)


def index_links(page: str) -> list[str]:
    """Entries of an index page: links whose href equals their text (``/`` = directory).

    Sort links (``?C=N;O=D``), "Parent Directory", absolute links and links elsewhere are
    not entries.
    """
    names = []
    for href, text in _LINK.findall(page):
        text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
        if not href or href.startswith(("?", "/", "#")) or "://" in href:
            continue
        if urllib.parse.unquote(html.unescape(href)) != text:
            continue
        names.append(text)
    return names


def index_entries(url: str, page: str, skipped: list[str] | None = None) -> list[str]:
    """:func:`index_links` of the page at ``url``, checked: a page that is no index at all
    (a maintenance or error page served with 200) is a :class:`SourceError` naming the
    URL, never an empty directory; entries that are not plain names (``../x``, ``a/b``)
    are left out (and added to ``skipped``)."""
    from camhd_motion.sources.content import describe

    names = index_links(page)
    if not names and not _INDEX_MARK.search(page):
        raise SourceError(f"{url}: not an archive index page (the server sent "
                          f"{describe(page[:2048].encode('utf-8', 'replace'))})")
    plain = [n for n in names if is_plain_name(n)]
    if skipped is not None and len(plain) < len(names):
        skipped.extend(n for n in names if not is_plain_name(n))
    return plain


def http_instrument_url(root: str) -> str:
    """The ``.../06-CAMHDA301/`` URL under an archive root URL."""
    root = root if root.endswith("/") else root + "/"
    if ARCHIVE_PREFIX in urllib.parse.urlsplit(root).path:
        return root[: root.index(ARCHIVE_PREFIX) + len(ARCHIVE_PREFIX)] + "/"
    return root + ARCHIVE_PREFIX + "/"


def list_http(root: str, start: dt.date | None = None, end: dt.date | None = None, *,
              md5: bool = True, workers: int = _HTTP_WORKERS,
              net: dict | None = None) -> list[Video]:
    """``net``: :class:`~camhd_motion.sources.options.NetOptions` fields for the pages."""
    from camhd_motion.sources.download import parse_md5 as parse_digest
    from camhd_motion.sources.pages import PageFetcher

    base = http_instrument_url(root)
    fetcher = PageFetcher(base, **(net or {}))
    outside: list[str] = []  # entries that are not plain names: never followed

    def subdirs(rel: str) -> list[str]:
        url = base + (rel + "/" if rel else "")
        return [n[:-1] for n in index_entries(url, fetcher.text(url), outside)
                if n.endswith("/")]

    def day_page(day: str) -> list[str]:
        url = f"{base}{day}/"
        return index_entries(url, fetcher.text(url), outside)

    def digest(md5_url: str | None) -> str | None:
        if not (md5 and md5_url):
            return None
        try:
            return parse_digest(fetcher.text(md5_url), md5_url)
        except SourceError as err:
            if "no md5 digest" not in str(err):
                raise  # an HTML page in its place: the server is not serving the archive
            log.warning("%s", err)
            return None

    try:
        days = date_dirs(subdirs, start, end)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pages = list(pool.map(day_page, days))
            found, skipped = [], []
            for day, names in zip(days, pages, strict=True):
                present = set(names)
                for name in names:
                    if not name.endswith(".mov"):
                        continue
                    if not is_video_name(name):
                        skipped.append(name)
                        continue
                    url = f"{base}{day}/{urllib.parse.quote(name)}"
                    found.append((url, url + ".md5" if name + ".md5" in present else None))
            digests = list(pool.map(digest, [md5_url for _, md5_url in found]))
    finally:
        fetcher.close()
    _skipped(root, skipped)
    _skipped(root, outside, "index entries that are not names under the source root")
    return [video_from_location(url, None, digest)
            for (url, _), digest in zip(found, digests, strict=True)]


# -- Google Cloud Storage ----------------------------------------------------------------


def _months(start: dt.date, end: dt.date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}/{m:02d}/")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def list_gcs(url: str, start: dt.date | None = None, end: dt.date | None = None, *,
             client=None) -> list[Video]:
    """Objects under ``gs://bucket/prefix/RS03ASHS/PN03B/06-CAMHDA301/`` in the range:
    one listing per month of the range (the whole instrument prefix if unbounded)."""
    from camhd_motion.sources.gcs import make_client

    if not url.startswith("gs://"):
        raise UserError(f"source {url!r}: not a gs:// URL")
    bucket, _, prefix = url[len("gs://") :].partition("/")
    if not bucket:
        raise UserError(f"source {url!r}: expected gs://BUCKET[/PREFIX]")
    prefix = prefix.strip("/")
    if not prefix.endswith(ARCHIVE_PREFIX):
        prefix = f"{prefix}/{ARCHIVE_PREFIX}" if prefix else ARCHIVE_PREFIX
    prefix += "/"
    client = client or make_client()
    parts = _months(start, end) if start and end else [""]
    videos, skipped, outside = [], [], []
    for part in parts:
        try:
            blobs = list(client.list_blobs(bucket, prefix=prefix + part))
        except Exception as err:  # noqa: BLE001 - any client failure is one line
            raise SourceError(f"gs://{bucket}/{prefix}{part}: cannot list: {err}") from None
        for blob in blobs:
            name = blob.name.rsplit("/", 1)[-1]
            if not name.endswith(".mov"):
                continue
            if not is_video_name(name):
                skipped.append(name)
                continue
            if not _DAY_PATH.fullmatch(blob.name[len(prefix):]):
                outside.append(blob.name)  # e.g. a/../../b: not a plain archive path
                continue
            digest = base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else None
            size = int(blob.size) if blob.size is not None else None
            videos.append(video_from_location(f"gs://{bucket}/{blob.name}", size, digest))
    _skipped(url, skipped)
    _skipped(url, outside, "objects that are not YYYY/MM/DD/<name> under the prefix")
    return videos
