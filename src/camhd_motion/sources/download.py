"""Download mode: fetch a whole video to a local path, resumably, verified, atomically.

For servers that cannot stream (no ``Range`` support) and for runs that read a video
several times.  The bytes go to ``<path>.part``; an interrupted download resumes where the
``.part`` stops (``Range: bytes=N-``), falling back to a restart if the server cannot
resume.  When complete, the file is checked against its size and the archive's ``.md5``
sibling (or a given digest); on a mismatch the file is downloaded once more from scratch,
and a second mismatch is a clear failure.  Only a verified file is renamed to ``path``,
so ``path`` never holds a partial or corrupt video.  Deleting the file after use is the
caller's business (the workflow marks it ``temp()``).

Works for ``http(s)://`` and ``gs://`` URLs (``gs://``: the ``.md5`` sibling object if
there is one, else the object's own MD5 metadata).  Faults are retried and resumed with
the same budget as streaming (:mod:`~camhd_motion.sources.retry`).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from camhd_motion.errors import PermanentSourceError, SourceError, local_io_error
from camhd_motion.sources.download_remotes import GcsRemote, HttpRemote, parse_md5
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.partfile import PartFile
from camhd_motion.sources.retry import Budget, Deadline, Fault, GaveUp, call_retrying

log = logging.getLogger(__name__)

__all__ = ["DownloadResult", "download", "parse_md5"]


@dataclass
class DownloadResult:
    path: str
    size: int
    md5: str | None  # the verified digest (hex), None if there was nothing to verify
    bytes_transferred: int  # file bytes received over the network (0 if kept)
    resumed_from: int  # bytes of an earlier .part that were reused
    downloads: int  # 1, or 2 after an md5 mismatch


# -- the download --------------------------------------------------------------------


def _fetch_resuming(remote, part: PartFile, options: NetOptions, name: str,
                    deadline: Deadline | None = None) -> int | None:
    """``remote.fetch(part)`` until complete; progress resets the retry budget."""
    budget = Budget(name, options, deadline)
    def kept(err: GaveUp) -> GaveUp:
        return type(err)(f"{err}; {part.size} bytes kept in {part.path} for the next attempt")

    while True:
        try:
            return remote.fetch(part, budget)
        except Fault as fault:
            try:
                budget.failed(fault)
            except GaveUp as err:
                raise kept(err) from None
            log.info("%s: %s at byte %d; resuming", name, fault, part.size)
        except GaveUp as err:  # the deadline, in the middle of a transfer
            raise kept(err) from None


def download(
    url: str,
    dest,
    *,
    md5: str = "auto",
    keep: bool = False,
    movie: bool | None = None,
    options: NetOptions | None = None,
    **net,
) -> DownloadResult:
    """Download ``url`` to ``dest`` (see the module docstring).

    ``md5``: ``"auto"`` (the ``.md5`` sibling if it exists), ``"none"``, or a hex digest.
    ``keep``: leave an existing ``dest`` alone (this function only ever renames verified
    files into place, so an existing ``dest`` is a finished download).
    ``movie``: the file must be a QuickTime movie (its first atom), else it is deleted and
    the download fails (:class:`PermanentSourceError`: e.g. an HTML page served with 200);
    default: when the URL names a ``.mov``.
    ``options``, or ``net`` as its fields: timeouts and retries
    (:class:`~camhd_motion.sources.options.NetOptions`).
    """
    dest = Path(dest)
    options = options if options is not None else NetOptions(**net)
    if md5 not in ("auto", "none") and not re.fullmatch(r"[0-9a-fA-F]{32}", md5):
        raise ValueError(f"md5 must be auto, none or a 32-digit hex digest, not {md5!r}")
    if keep and dest.exists():
        log.info("%s: keeping existing %s", url, dest)
        return DownloadResult(str(dest), dest.stat().st_size, None, 0, 0, 0)
    if url.startswith("gs://"):
        remote = GcsRemote(url, options)
    elif url.startswith(("http://", "https://")):
        remote = HttpRemote(url, options)
    else:
        raise SourceError(f"{url}: download needs an http(s):// or gs:// URL")
    if movie is None:
        movie = url.split("?", 1)[0].lower().endswith(".mov")
    try:
        return _download(remote, url, dest, md5, options, movie)
    except OSError as err:  # writing the .part or the destination
        raise local_io_error(err, dest) from None
    except PermanentSourceError:  # not found, refused, not the file: nothing to resume
        dest.with_name(dest.name + ".part").unlink(missing_ok=True)
        raise
    finally:
        remote.close()


def _not_a_movie(part_path: Path) -> str | None:
    """Why the downloaded ``.mov`` does not start like a movie (an HTML page, an image...),
    or None."""
    from camhd_motion.sources.content import HEAD_BYTES, not_a_movie

    with open(part_path, "rb") as fh:
        return not_a_movie(fh.read(HEAD_BYTES))


def _download(remote, url, dest: Path, md5: str, options: NetOptions,
              movie: bool) -> DownloadResult:
    deadline = Deadline(url, options.deadline)  # the whole download, md5 sibling included
    if md5 == "auto":
        expected = call_retrying(remote.expected_md5, Budget(url + ".md5", options, deadline))
        if expected is None:
            log.info("%s: no .md5 sibling; checking the size only", url)
    else:
        expected = None if md5 == "none" else md5.lower()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part_path = dest.with_name(dest.name + ".part")
    resumed_from = part_path.stat().st_size if part_path.exists() else 0
    for round_ in (1, 2):
        part = PartFile(part_path)
        try:
            total = _fetch_resuming(remote, part, options, url, deadline)
            part.close(sync=True)
        finally:
            part.close()
        if total is not None and part.size != total:
            raise SourceError(f"{url}: got {part.size} bytes, the server said {total}")
        bad = _not_a_movie(part_path) if movie else None
        if bad is not None and not (round_ == 1 and resumed_from):
            part_path.unlink()  # never kept as "the video"
            raise PermanentSourceError(f"{url}: {bad}; nothing kept")
        actual = part.md5.hexdigest()
        if bad is None and (expected is None or actual == expected):
            os.replace(part_path, dest)
            return DownloadResult(str(dest), part.size, expected, remote.received,
                                  resumed_from, round_)
        part_path.unlink()
        if round_ == 1:  # e.g. a stale .part of an older file: once more from scratch
            log.warning("%s: %s; downloading it again", url,
                        f"the resumed .part is {bad}" if bad else
                        f"md5 mismatch (expected {expected}, got {actual})")
    raise PermanentSourceError(f"{url}: md5 mismatch after a full re-download "
                      f"(expected {expected}, got {actual})")
