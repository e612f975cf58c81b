"""The per-video steps: motion of a video, static sections of a motion file.

The CLI commands ``camhd-motion motion`` and ``camhd-motion regions`` -- which the
workflow's rules call, once per job -- build their parameter objects once
(:mod:`camhd_motion.params`) and call these functions.

A video that cannot be analysed -- missing, unreadable, not a movie, damaged beyond use
(:class:`VideoError`, exit 3; a missing file given on the command line is exit 2), or
refused for good by its server (not found, access refused, an HTML page in its place:
:class:`PermanentSourceError`, exit 3) -- is recorded in its failure file
(``<results>/failed/YYYY/MM/DD/<stem>.txt``; with a default storage the same path in the
bucket, a ``gs://`` URL: :mod:`camhd_motion.pipeline.storage`), so that later runs leave
it out instead of failing on it every time; a later success removes the record.
Transient failures (a server that timed out or kept failing, a full disk: exit 4) are
never recorded: the next run tries again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path

from camhd_motion.errors import UserError, VideoError, is_permanent, local_io_error
from camhd_motion.formats.common import atomic_write_text
from camhd_motion.motion.model import MotionParams, MotionResult, RegionParams, RegionsResult

log = logging.getLogger(__name__)

REMOTE_PREFIXES = ("http://", "https://", "gs://")


def motion(video: str, output: str | os.PathLike, params: MotionParams, *, workers: int = 1,
           engine: str = "python", native_bin: str | None = None,
           movie_url: str | None = None, failed_record: str | None = None,
           net: dict | None = None) -> MotionResult:
    """The motion of ``video`` (a path or an http(s)/gs URL) written to ``output``;
    ``net``: :class:`~camhd_motion.sources.options.NetOptions` fields for a remote video.

    Raises :class:`VideoError` or :class:`PermanentSourceError` for a bad or unavailable
    video (recorded in ``failed_record`` if given), :class:`UserError` for bad arguments,
    :class:`SourceError` for a failing server (transient, not recorded)."""
    from camhd_motion.archive.names import parse_name
    from camhd_motion.formats.optical_flow import write_optical_flow

    if workers < 1:
        raise UserError("workers must be >= 1")
    try:
        parse_name(video)
    except ValueError:
        log.warning("%s: not a CamHD archive name; movie URL taken from the file name", video)
    try:
        if not video.startswith(REMOTE_PREFIXES) and not os.path.exists(video):
            raise MissingVideo(video, "file not found")
        if engine == "native":
            from camhd_motion.native import analyze_video_native

            result = analyze_video_native(video, params, workers=workers, movie_url=movie_url,
                                          binary=native_bin, source_options=net)
        elif engine == "python":
            from camhd_motion.motion.analyze import analyze_video

            result = analyze_video(video, params, workers=workers, movie_url=movie_url,
                                   source_options=net)
        else:
            raise UserError(f"engine {engine!r}: python or native")
    except Exception as err:
        if failed_record and is_permanent(err):
            record_failure(failed_record, err)
        raise
    try:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        write_optical_flow(result, output)
    except OSError as err:
        raise local_io_error(err, output) from None
    if failed_record:
        remove_failure(failed_record)
    valid = sum(s.valid for s in result.samples)
    log.info("%s: %s engine, %d samples, %d valid, %.1f s -> %s", video, result.engine,
             len(result.samples), valid, result.performance.get("wallSeconds", 0.0), output)
    return result


class MissingVideo(VideoError):
    """A video file that is not there: a usage error on the command line (exit 2), a bad
    row of the listing in the workflow (recorded like a bad video)."""

    exit_code = 2


def record_failure(failed_record: str, err: BaseException) -> None:
    """Write ``err`` (one line) as the record of a bad or unavailable video: a file, or a
    ``gs://`` object (one upload)."""
    text = " ".join(str(err).split()) + "\n"
    if failed_record.startswith("gs://"):
        from camhd_motion.pipeline.storage import write_record

        write_record(failed_record, text)
    else:
        try:
            atomic_write_text(failed_record, text)
        except OSError as io_err:
            raise local_io_error(io_err, failed_record) from None
    log.warning("recorded as a bad video in %s", failed_record)


def remove_failure(failed_record: str) -> None:
    """Remove the record of a video that succeeded, if there is one."""
    if failed_record.startswith("gs://"):
        from camhd_motion.pipeline.storage import delete_record

        delete_record(failed_record)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(failed_record)


def failed_record_path(failed_dir: str, video: str) -> str:
    """Where the workflow records ``video`` as bad: ``<failed_dir>/YYYY/MM/DD/<stem>.txt``
    (``<failed_dir>/<name>.txt`` for a name outside the archive's)."""
    from camhd_motion.archive.manifest import rel_path
    from camhd_motion.archive.names import parse_name

    name = video.rstrip("/").rsplit("/", 1)[-1]
    stem = name[:-4] if name.lower().endswith(".mov") else name
    try:
        parse_name(name)
        rel = rel_path(stem)
    except ValueError:
        rel = stem
    return os.path.join(failed_dir, f"{rel}.txt")


def regions(motion_json: str | os.PathLike, output: str | os.PathLike | None,
            params: RegionParams, *, stride: int | None = None,
            plot: str | os.PathLike | None = None,
            contact_sheet: str | os.PathLike | None = None,
            video: str | None = None) -> RegionsResult:
    """The static sections of the motion file ``motion_json`` (1.1, or the original's 1.0)
    written to ``output`` (default: ``<stem>_optical_flow_regions.json`` beside it), and
    the video's figures when asked for: the motion ``plot`` and the ``contact_sheet`` of its
    static sections (read from ``video``: a path or URL, only a few frames)."""
    from camhd_motion.formats.common import movie_stem
    from camhd_motion.formats.optical_flow import SUFFIX as MOTION_SUFFIX
    from camhd_motion.formats.optical_flow import read_optical_flow
    from camhd_motion.formats.regions_json import regions_filename, write_regions_json
    from camhd_motion.regions import FIND_REGIONS_VERSION, find_regions

    motion_json = Path(motion_json)
    t0 = time.monotonic()
    motion = read_optical_flow(motion_json)
    stride = stride if stride is not None else motion.params.stride
    if stride <= 0:
        raise UserError(f"{motion_json}: stride must be positive, got {stride}")
    if output is None:
        name = motion_json.name
        stem = name[: -len(MOTION_SUFFIX)] if name.endswith(MOTION_SUFFIX) else movie_stem(
            motion.movie)
        output = motion_json.with_name(regions_filename(stem))
    t1 = time.monotonic()
    found = find_regions(motion.samples, stride, params)
    t2 = time.monotonic()
    result = RegionsResult(
        movie=motion.movie,
        params=params,
        regions=found,
        stride=stride,
        depends={"opticalFlow": {_depends_key(motion_json, motion.movie.url):
                                 _git_blob_id(motion_json)}},
        performance={"timing": {"regionAnalysis": t2 - t1, "elapsedSeconds": t2 - t0}},
        versions={"findRegions": FIND_REGIONS_VERSION},
    )
    try:
        write_regions_json(result, output)
    except OSError as err:
        raise local_io_error(err, output) from None
    if not found:
        log.warning("%s: no static section found (no valid stable run)", motion_json)
    if plot is not None:
        from camhd_motion.figures.motion_plot import write_motion_plot

        write_motion_plot(motion, result, plot)
        log.info("wrote %s", plot)
    if contact_sheet is not None:
        from camhd_motion.figures.contact_sheet import write_contact_sheet

        if video is None:
            raise UserError("a contact sheet needs the video (--video)")
        shown = write_contact_sheet(video, motion, result, contact_sheet)
        log.info("wrote %s: frames %s", contact_sheet, shown)
    log.info("wrote %s: %d regions, %d static", output, len(found),
             sum(r.type == "static" for r in found))
    return result


def _depends_key(motion_path: Path, movie_url: str) -> str:
    """Archive-relative path of the motion file, as the original wrote it."""
    archive_dir = movie_url.lstrip("/").rpartition("/")[0]
    return f"{archive_dir}/{motion_path.name}" if archive_dir else motion_path.name


def _git_blob_id(path: Path) -> str:
    """``git hash-object`` of the file: a content id computable without git."""
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
